package config

import (
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// AzureLogs is a <wodle name="azure-logs">, Wazuh's Azure module
// (src/config/wmodules-azure.c), with all of its options:
//
//	<wodle name="azure-logs">
//	  <disabled>no</disabled>          yes or no, default no
//	  <run_on_start>yes</run_on_start> yes or no, default yes
//	  <interval>5m</interval>          and <day>, <wday>, <time>: see Schedule
//	  <timeout>1800</timeout>          seconds for a whole run, default none
//	  <log_analytics> ... </log_analytics>  any number of each of these
//	  <graph> ... </graph>
//	  <storage> ... </storage>
//	</wodle>
//
// ThreatLockDown adds these options, for sovereign clouds, proxies and
// tests (Wazuh's module has none of them):
//
//	<cloud>AzurePublic</cloud>   AzurePublic (default), AzureUSGovernment or AzureChina:
//	                             picks the four endpoints below
//	<authority_host>URL</authority_host>                 Microsoft Entra ID token endpoint host
//	<log_analytics_endpoint>URL</log_analytics_endpoint> Log Analytics query API
//	<graph_endpoint>URL</graph_endpoint>                 Microsoft Graph API
//	<storage_endpoint>URL</storage_endpoint>             Blob service; "{account}" in it is
//	                                                     replaced by the account name
//	<ca_file>PATH</ca_file>      PEM certificates trusted in addition to the system's
//
// The endpoints are http or https URLs; each one written overrides the
// cloud's.
type AzureLogs struct {
	Pos        Pos
	Disabled   bool
	RunOnStart bool
	Schedule   Schedule
	// Timeout bounds a whole run; zero means no limit. A request's or a
	// container's own timeout overrides it.
	Timeout time.Duration

	Cloud                string
	AuthorityHost        string
	LogAnalyticsEndpoint string
	GraphEndpoint        string
	StorageEndpoint      string
	// CAFile is resolved against Home; it must exist.
	CAFile string

	LogAnalytics []AzureAPI
	Graph        []AzureAPI
	Storage      []AzureStorage
}

// Azure clouds.
const (
	AzurePublic       = "AzurePublic"
	AzureUSGovernment = "AzureUSGovernment"
	AzureChina        = "AzureChina"
)

// AzureEndpoints are the service addresses of one Azure cloud.
type AzureEndpoints struct {
	AuthorityHost, LogAnalytics, Graph, Storage string
}

// AzureClouds gives the endpoints of each cloud that <cloud> names.
var AzureClouds = map[string]AzureEndpoints{
	AzurePublic: {
		AuthorityHost: "https://login.microsoftonline.com/",
		LogAnalytics:  "https://api.loganalytics.io",
		Graph:         "https://graph.microsoft.com",
		Storage:       "https://{account}.blob.core.windows.net",
	},
	AzureUSGovernment: {
		AuthorityHost: "https://login.microsoftonline.us/",
		LogAnalytics:  "https://api.loganalytics.us",
		Graph:         "https://graph.microsoft.us",
		Storage:       "https://{account}.blob.core.usgovcloudapi.net",
	},
	AzureChina: {
		AuthorityHost: "https://login.chinacloudapi.cn/",
		LogAnalytics:  "https://api.loganalytics.azure.cn",
		Graph:         "https://microsoftgraph.chinacloudapi.cn",
		Storage:       "https://{account}.blob.core.chinacloudapi.cn",
	},
}

// AzureAPI is a <log_analytics> or <graph> block.
//
//	<auth_path>PATH</auth_path>        file of "application_id = ..." and
//	                                   "application_key = ..." lines (see ReadAuthFile)
//	<application_id>ID</application_id>    the same inline: deprecated since
//	<application_key>KEY</application_key> Wazuh 4.4, accepted with a warning
//	<tenantdomain>DOMAIN</tenantdomain>    required
//	<request> ... </request>           one or more
type AzureAPI struct {
	Pos Pos
	// AuthPath is resolved against Home. When it is set, ApplicationID and
	// ApplicationKey are not used.
	AuthPath       string
	ApplicationID  string
	ApplicationKey Secret
	TenantDomain   string
	Requests       []AzureRequest
}

// AzureRequest is a <request> of a <log_analytics> or <graph> block.
//
//	<tag>TAG</tag>                   put in the events (log_analytics_tag, azure_aad_tag)
//	<query>QUERY</query>             required: KQL, or a Graph path such as
//	                                 auditLogs/directoryAudits
//	<workspace>ID</workspace>        required for Log Analytics; ignored for Graph
//	<time_offset>1d</time_offset>    how far back the first run reads: a positive
//	                                 number with m, h or d; default 1d
//	<timeout>SECONDS</timeout>       overrides the wodle's timeout
type AzureRequest struct {
	Pos        Pos
	Tag        string
	Query      string
	Workspace  string
	TimeOffset time.Duration
	Timeout    time.Duration
}

// AzureStorage is a <storage> block.
//
//	<auth_path>PATH</auth_path>        file of "account_name = ..." and
//	                                   "account_key = ..." lines
//	<account_name>NAME</account_name>  the same inline: deprecated since
//	<account_key>KEY</account_key>     Wazuh 4.4, accepted with a warning
//	<tag>TAG</tag>                     put in the events (azure_storage_tag)
//	<container name="NAME"> ... </container>  one or more; "*" is every container
type AzureStorage struct {
	Pos Pos
	// AuthPath is resolved against Home. When it is set, AccountName and
	// AccountKey are not used.
	AuthPath    string
	AccountName string
	AccountKey  Secret
	Tag         string
	Containers  []AzureContainer
}

// AzureContainer is a <container name="..."> of a <storage> block.
//
//	<blobs>.json</blobs>               blob name suffix to read; "*" (default) is every blob
//	<content_type>json_inline</content_type>  text (default: a line is an event),
//	                                   json_file (a JSON document of records) or
//	                                   json_inline (a JSON object per line)
//	<path>PREFIX</path>                read only blobs under this prefix
//	<time_offset>1d</time_offset>      as for requests; default 1d
//	<timeout>SECONDS</timeout>         overrides the wodle's timeout
type AzureContainer struct {
	Pos         Pos
	Name        string
	Blobs       string
	ContentType string
	Path        string
	TimeOffset  time.Duration
	Timeout     time.Duration
}

// defaultTimeOffset is the documented default of time_offset.
const defaultTimeOffset = 24 * time.Hour

const deprecatedInline = "<%s> in the configuration is deprecated (since Wazuh 4.4): put the credentials in a file named by <auth_path>"

func (d *decoder) azure(n *xmlw.Node) {
	az := AzureLogs{Pos: pos(n), RunOnStart: true, Schedule: defaultSchedule(), Cloud: AzurePublic}
	var st schedState
	endpoints := map[string]*string{
		"authority_host": &az.AuthorityHost, "log_analytics_endpoint": &az.LogAnalyticsEndpoint,
		"graph_endpoint": &az.GraphEndpoint, "storage_endpoint": &az.StorageEndpoint,
	}
	d.attrs(n, "name")
	for _, ch := range n.Children {
		if d.scheduleOption(ch, &az.Schedule, &st) {
			continue
		}
		if ch.Name != "storage" && ch.Name != "log_analytics" && ch.Name != "graph" {
			d.attrs(ch)
		}
		switch ch.Name {
		case "disabled":
			d.yesNo(ch, &az.Disabled)
		case "run_on_start":
			d.yesNo(ch, &az.RunOnStart)
		case "timeout":
			d.seconds(ch, &az.Timeout)
		case "cloud":
			v, ok := d.text(ch)
			if !ok {
				continue
			}
			found := false
			for name := range AzureClouds {
				if strings.EqualFold(v, name) {
					az.Cloud, found = name, true
				}
			}
			if !found {
				d.c.errorf(pos(ch), "<cloud> %q is not AzurePublic, AzureUSGovernment or AzureChina", v)
			}
		case "authority_host", "log_analytics_endpoint", "graph_endpoint", "storage_endpoint":
			if v, ok := d.text(ch); ok && d.checkURL(ch, v) {
				*endpoints[ch.Name] = v
			}
		case "ca_file":
			if v, ok := d.text(ch); ok {
				az.CAFile = d.cfg.resolve(v)
				if _, err := os.Stat(az.CAFile); err != nil {
					d.c.errorf(pos(ch), "<ca_file> %s: %v", v, unwrapPathError(err))
				}
			}
		case "log_analytics", "graph":
			d.attrs(ch)
			if api, ok := d.azureAPI(ch); ok {
				if ch.Name == "graph" {
					az.Graph = append(az.Graph, api)
				} else {
					az.LogAnalytics = append(az.LogAnalytics, api)
				}
			}
		case "storage":
			d.attrs(ch)
			if s, ok := d.azureStorage(ch); ok {
				az.Storage = append(az.Storage, s)
			}
		default:
			d.unknown(ch, n)
		}
	}
	d.finishSchedule(&az.Schedule, &st)
	eps := AzureClouds[az.Cloud]
	for _, e := range []struct {
		dst *string
		def string
	}{
		{&az.AuthorityHost, eps.AuthorityHost}, {&az.LogAnalyticsEndpoint, eps.LogAnalytics},
		{&az.GraphEndpoint, eps.Graph}, {&az.StorageEndpoint, eps.Storage},
	} {
		if *e.dst == "" {
			*e.dst = e.def
		}
	}
	if len(az.LogAnalytics)+len(az.Graph)+len(az.Storage) == 0 && !d.hasBlock(n) {
		d.c.errorf(pos(n), "<wodle name=\"azure-logs\"> has no <log_analytics>, <graph> or <storage> block: nothing to collect")
	}
	d.cfg.AzureLogs = append(d.cfg.AzureLogs, az)
}

// hasBlock reports whether the wodle holds a service block, valid or not
// (an invalid one has its own errors).
func (d *decoder) hasBlock(n *xmlw.Node) bool {
	for _, ch := range n.Children {
		if ch.Name == "log_analytics" || ch.Name == "graph" || ch.Name == "storage" {
			return true
		}
	}
	return false
}

func (d *decoder) checkURL(n *xmlw.Node, v string) bool {
	u, err := url.Parse(strings.ReplaceAll(v, "{account}", "account"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.c.errorf(pos(n), "<%s> %q is not an http or https URL", n.Name, v)
		return false
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		d.c.warnf(pos(n), "<%s> %q uses plain http: credentials and logs cross the network unencrypted", n.Name, v)
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *decoder) azureAPI(n *xmlw.Node) (AzureAPI, bool) {
	api := AzureAPI{Pos: pos(n)}
	var idPos, keyPos Pos
	var key string
	ok := true
	bad := map[string]bool{} // settings already reported
	for _, ch := range n.Children {
		if ch.Name != "request" {
			d.attrs(ch)
		}
		switch ch.Name {
		case "auth_path":
			var v string
			if !d.str(ch, &v) {
				bad["credentials"], ok = true, false
			} else if v != "" {
				api.AuthPath = d.cfg.resolve(v)
			}
		case "application_id":
			idPos = pos(ch)
			if !d.str(ch, &api.ApplicationID) {
				bad["credentials"], ok = true, false
			} else if api.ApplicationID != "" {
				d.c.warnf(pos(ch), deprecatedInline, ch.Name)
			}
		case "application_key":
			keyPos = pos(ch)
			if !d.str(ch, &key) {
				bad["credentials"], ok = true, false
			} else if key != "" {
				d.c.warnf(pos(ch), deprecatedInline, ch.Name)
			}
		case "tenantdomain":
			if !d.str(ch, &api.TenantDomain) {
				bad["tenantdomain"], ok = true, false
			}
		case "request":
			d.attrs(ch)
			if r, rok := d.azureRequest(ch, n.Name); rok {
				api.Requests = append(api.Requests, r)
			} else {
				ok = false
			}
		default:
			d.unknown(ch, n)
		}
	}
	api.ApplicationKey = NewSecret(key)
	switch {
	case bad["credentials"]:
	case api.AuthPath != "" && (api.ApplicationID != "" || key != ""):
		d.c.warnf(pos(n), "<%s> has both <auth_path> and inline credentials: <auth_path> is used", n.Name)
		api.ApplicationID, api.ApplicationKey = "", Secret{}
	case api.AuthPath == "" && api.ApplicationID != "" && key == "":
		d.c.errorf(idPos, "<application_id> without <application_key>: set both, or use <auth_path>")
		ok = false
	case api.AuthPath == "" && api.ApplicationID == "" && key != "":
		d.c.errorf(keyPos, "<application_key> without <application_id>: set both, or use <auth_path>")
		ok = false
	case api.AuthPath == "" && api.ApplicationID == "":
		d.c.errorf(pos(n), "<%s> has no credentials: add <auth_path> naming a file with application_id and application_key", n.Name)
		ok = false
	}
	if api.TenantDomain == "" && !bad["tenantdomain"] {
		d.c.errorf(pos(n), "<%s> has no <tenantdomain>: it is required (the primary domain of your Microsoft Entra tenant)", n.Name)
		ok = false
	}
	if !d.hasChild(n, "request") {
		d.c.errorf(pos(n), "<%s> has no <request>", n.Name)
		ok = false
	}
	return api, ok
}

func (d *decoder) hasChild(n *xmlw.Node, name string) bool { return n.Child(name) != nil }

func (d *decoder) azureRequest(n *xmlw.Node, api string) (AzureRequest, bool) {
	r := AzureRequest{Pos: pos(n), TimeOffset: defaultTimeOffset}
	ok := true
	bad := map[string]bool{} // settings already reported
	for _, ch := range n.Children {
		d.attrs(ch)
		switch ch.Name {
		case "tag", "query", "workspace":
			dst := map[string]*string{"tag": &r.Tag, "query": &r.Query, "workspace": &r.Workspace}[ch.Name]
			if ch.Name == "workspace" && api != "log_analytics" {
				d.c.warnf(pos(ch), "<workspace> applies only to <log_analytics>: ignored")
				continue
			}
			if !d.str(ch, dst) {
				bad[ch.Name], ok = true, false
			}
		case "time_offset":
			ok = d.duration(ch, "mhd", false, &r.TimeOffset) && ok
		case "timeout":
			ok = d.seconds(ch, &r.Timeout) && ok
		default:
			d.unknown(ch, n)
		}
	}
	if r.Query == "" && !bad["query"] {
		d.c.errorf(pos(n), "<request> has no <query>: it is required")
		ok = false
	}
	if api == "log_analytics" && r.Workspace == "" && !bad["workspace"] {
		d.c.errorf(pos(n), "<request> of <log_analytics> has no <workspace>: it is required (the Workspace ID of the Log Analytics workspace)")
		ok = false
	}
	return r, ok
}

func (d *decoder) azureStorage(n *xmlw.Node) (AzureStorage, bool) {
	s := AzureStorage{Pos: pos(n)}
	var key string
	var namePos, keyPos Pos
	ok := true
	badCreds := false
	for _, ch := range n.Children {
		if ch.Name == "container" {
			d.attrs(ch, "name")
		} else {
			d.attrs(ch)
		}
		switch ch.Name {
		case "auth_path":
			var v string
			if !d.str(ch, &v) {
				badCreds, ok = true, false
			} else if v != "" {
				s.AuthPath = d.cfg.resolve(v)
			}
		case "account_name":
			namePos = pos(ch)
			if !d.str(ch, &s.AccountName) {
				badCreds, ok = true, false
			} else if s.AccountName != "" {
				d.c.warnf(pos(ch), deprecatedInline, ch.Name)
			}
		case "account_key":
			keyPos = pos(ch)
			if !d.str(ch, &key) {
				badCreds, ok = true, false
			} else if key != "" {
				d.c.warnf(pos(ch), deprecatedInline, ch.Name)
			}
		case "tag":
			ok = d.str(ch, &s.Tag) && ok
		case "container":
			if c, cok := d.azureContainer(ch); cok {
				s.Containers = append(s.Containers, c)
			} else {
				ok = false
			}
		default:
			d.unknown(ch, n)
		}
	}
	s.AccountKey = NewSecret(key)
	switch {
	case badCreds:
	case s.AuthPath != "" && (s.AccountName != "" || key != ""):
		d.c.warnf(pos(n), "<storage> has both <auth_path> and inline credentials: <auth_path> is used")
		s.AccountName, s.AccountKey = "", Secret{}
	case s.AuthPath == "" && s.AccountName != "" && key == "":
		d.c.errorf(namePos, "<account_name> without <account_key>: set both, or use <auth_path>")
		ok = false
	case s.AuthPath == "" && s.AccountName == "" && key != "":
		d.c.errorf(keyPos, "<account_key> without <account_name>: set both, or use <auth_path>")
		ok = false
	case s.AuthPath == "" && s.AccountName == "":
		d.c.errorf(pos(n), "<storage> has no credentials: add <auth_path> naming a file with account_name and account_key")
		ok = false
	}
	if !d.hasChild(n, "container") {
		d.c.errorf(pos(n), "<storage> has no <container>")
		ok = false
	}
	return s, ok
}

func (d *decoder) azureContainer(n *xmlw.Node) (AzureContainer, bool) {
	c := AzureContainer{Pos: pos(n), Blobs: "*", ContentType: "text", TimeOffset: defaultTimeOffset}
	ok := true
	name, has := n.Attr("name")
	switch {
	case !has:
		d.c.errorf(pos(n), `<container> needs a name attribute (a container name, or "*" for all)`)
		ok = false
	case strings.TrimSpace(name) == "":
		d.c.errorf(pos(n), "<container> has an empty name")
		ok = false
	default:
		c.Name = strings.TrimSpace(name)
	}
	for _, ch := range n.Children {
		d.attrs(ch)
		switch ch.Name {
		case "blobs":
			var v string
			if !d.str(ch, &v) {
				ok = false
			} else if v != "" {
				c.Blobs = v
			}
		case "content_type":
			v, tok := d.text(ch)
			switch {
			case !tok:
				ok = false
			case v == "text" || v == "json_file" || v == "json_inline":
				c.ContentType = v
			default:
				d.c.errorf(pos(ch), "<content_type> %q is not text, json_file or json_inline", v)
				ok = false
			}
		case "path":
			ok = d.str(ch, &c.Path) && ok
		case "time_offset":
			ok = d.duration(ch, "mhd", false, &c.TimeOffset) && ok
		case "timeout":
			ok = d.seconds(ch, &c.Timeout) && ok
		default:
			d.unknown(ch, n)
		}
	}
	return c, ok
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
