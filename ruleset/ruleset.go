// Package ruleset holds the decoders and rules ThreatLockDown ships, embedded
// in the binary. They load before a user's own files, which may refer to
// them (if_sid, decoded_as) and override them (overwrite="yes").
package ruleset

import "embed"

// FS holds decoders/*.xml and rules/*.xml.
//
//go:embed decoders/*.xml rules/*.xml
var FS embed.FS
