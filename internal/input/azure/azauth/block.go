package azauth

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/threatlockdown/tld/internal/config"
)

// ForBlock builds the credential and HTTP client of one <log_analytics>
// or <graph> block: the credentials file when <auth_path> is set, else the
// inline (deprecated) application id and key, else the host's managed or
// workload identity.
func ForBlock(az config.AzureLogs, api config.AzureAPI, logger *slog.Logger) (*Credential, *http.Client, error) {
	o := Options{
		TenantDomain: api.TenantDomain, ApplicationID: api.ApplicationID, ApplicationKey: api.ApplicationKey,
		AuthorityHost: az.AuthorityHost, CAFile: az.CAFile, Logger: logger,
	}
	if api.AuthPath != "" {
		af, _, err := config.ReadAuthFile(api.AuthPath)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: <auth_path> %s: %w", api.Pos, api.AuthPath, err)
		}
		o.ApplicationID, o.ApplicationKey = af.ApplicationID, af.ApplicationKey
	}
	o.UseAmbient = o.ApplicationKey.IsZero()
	cred, err := NewCredential(o)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", api.Pos, err)
	}
	hc, err := NewHTTPClient(az.CAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", az.Pos, err)
	}
	return cred, hc, nil
}
