package azauth

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Error is an authentication failure: Message is one line naming the cause
// and what to change, without the secret; Code is Entra ID's AADSTS code
// when it gave one.
type Error struct {
	Code    string
	Message string
	cause   error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the SDK's error, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.cause }

// NonRetriable tells azcore's retry policy not to repeat the request:
// azidentity already retried what could be.
func (*Error) NonRetriable() {}

// Describe returns the one-line message for an authentication failure: the
// Message of an *Error in err's chain, or one made from err. It never
// contains a client secret: Entra ID does not echo it, and an *Error from
// a Credential has it removed.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return describe(err, describeInfo{}).Message
}

type describeInfo struct {
	tenant, app, authority string
}

func (d describeInfo) tenantName() string {
	if d.tenant == "" {
		return "the tenant"
	}
	return fmt.Sprintf("tenant %q", d.tenant)
}

func (d describeInfo) appName() string {
	if d.app == "" {
		return "the application"
	}
	return fmt.Sprintf("application %q", d.app)
}

// entraBody is the error body of Entra ID's token and discovery endpoints.
type entraBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

func describe(err error, d describeInfo) *Error {
	e := &Error{cause: err}
	var body entraBody
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		if p, perr := runtime.Payload(afe.RawResponse); perr == nil {
			_ = json.Unmarshal(p, &body)
		}
	}
	code := ""
	if len(body.Codes) > 0 {
		code = fmt.Sprint(body.Codes[0])
	} else if m := aadstsRE.FindStringSubmatch(err.Error()); m != nil {
		code = m[1]
	}
	if code != "" {
		e.Code = "AADSTS" + code
	}
	switch code {
	case "700016":
		e.Message = fmt.Sprintf("%s was not found in %s: check application_id (the app registration's Application (client) ID) and that the app is registered in this tenant (AADSTS700016)",
			d.appName(), d.tenantName())
	case "7000215":
		e.Message = fmt.Sprintf("invalid client secret for %s: application_key must be the client secret's Value, not its Secret ID (AADSTS7000215)", d.appName())
	case "7000222":
		e.Message = fmt.Sprintf("the client secret of %s has expired: create a new one under Certificates & secrets and put its Value in application_key (AADSTS7000222)", d.appName())
	case "90002":
		e.Message = fmt.Sprintf("%s was not found: check tenantdomain (the primary domain or tenant id of your Microsoft Entra tenant) and the cloud (AADSTS90002)", d.tenantName())
	case "900023":
		e.Message = fmt.Sprintf("%s is not a valid tenant: tenantdomain must be the primary domain (contoso.onmicrosoft.com) or the tenant id (AADSTS900023)", d.tenantName())
	case "7000218":
		e.Message = fmt.Sprintf("no client secret was sent for %s: set application_key (AADSTS7000218)", d.appName())
	case "500011":
		e.Message = fmt.Sprintf("the API is not known in %s: check <cloud> and the endpoints (AADSTS500011)", d.tenantName())
	case "":
		e.Message = describeOther(err, d)
	default:
		desc := body.Description
		if desc == "" {
			desc = err.Error()
			if i := strings.Index(desc, "AADSTS"+code); i >= 0 {
				desc = desc[i:]
			}
		}
		e.Message = "Microsoft Entra ID refused the token request: " + firstSentence(desc)
	}
	return e
}

// describeOther names failures that carry no AADSTS code: the network,
// TLS, the host's identity, or an answer that is not Entra ID's.
func describeOther(err error, d describeInfo) string {
	where := "Microsoft Entra ID"
	if d.authority != "" {
		where += " at " + strings.TrimSuffix(d.authority, "/")
	}
	var ua x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var urlErr *url.Error
	var netErr net.Error
	msg := err.Error()
	switch {
	case errors.As(err, &ua) || strings.Contains(msg, "certificate signed by unknown authority"):
		return "cannot verify the TLS certificate of " + where + ": add its CA to <ca_file>"
	case errors.As(err, &hostErr):
		return "the TLS certificate of " + where + " is not for that host: " + hostErr.Error()
	case strings.Contains(msg, "ManagedIdentityCredential") || strings.Contains(msg, "WorkloadIdentityCredential"):
		return "no managed or workload identity could give a token (set credentials with <auth_path>, or give the host an identity): " + firstSentence(lastLine(msg))
	case errors.As(err, &urlErr) || errors.As(err, &netErr):
		return "cannot reach " + where + ": " + firstSentence(lastLine(msg))
	}
	return "cannot get a token from " + where + ": " + firstSentence(lastLine(msg))
}

// firstSentence keeps a description's first line: Entra ID appends trace
// and correlation ids after "\r\n".
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	for _, sep := range []string{"\r\n", "\n", `\r\n`} {
		if i := strings.Index(s, sep); i >= 0 {
			s = s[:i]
		}
	}
	return strings.TrimSpace(s)
}

// lastLine keeps the most specific part of a multi-line SDK error.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "To troubleshoot") {
			return l
		}
	}
	return s
}
