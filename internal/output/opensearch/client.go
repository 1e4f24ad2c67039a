package opensearch

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	osgo "github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// newClient builds the official client. Its own retries are turned off:
// Flush retries with backoff itself, per document, and must see every
// failure to count it and to honour Retry-After.
func newClient(opts Options) (*opensearchapi.Client, error) {
	tr, err := newTransport(opts)
	if err != nil {
		return nil, err
	}
	c, err := opensearchapi.NewClient(opensearchapi.Config{Client: osgo.Config{
		Addresses:      opts.Addresses,
		Username:       opts.Username,
		Password:       opts.Password.Reveal(),
		Transport:      tr,
		DisableRetry:   true,
		RequestTimeout: opts.RequestTimeout,
	}})
	if err != nil {
		// The client's errors name addresses, never the password.
		return nil, fmt.Errorf("create client: %w", err)
	}
	return c, nil
}

// newTransport sets up TLS here rather than through the client's CACert
// option, because that option has no client certificate and Wazuh's
// <ssl> block does.
func newTransport(opts Options) (*http.Transport, error) {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	tr := base.Clone()
	tr.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: opts.InsecureSkipVerify, //nolint:gosec // an explicit option, documented as for tests
	}
	if len(opts.CAFiles) > 0 {
		pool := x509.NewCertPool()
		for _, f := range opts.CAFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read CA file: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("CA file %s: no PEM certificate in it", f)
			}
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	if opts.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s and key %s: %w", opts.CertFile, opts.KeyFile, err)
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	}
	return tr, nil
}
