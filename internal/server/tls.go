package server

import "crypto/tls"

// tlsConfig refuses the protocol versions browsers and scanners flag as
// weak; Go's default cipher suites are already good.
func tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12}
}
