package analysis

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/threatlockdown/tld/internal/event"
)

// BenchmarkAnalyzeAzureRows measures the whole analysis (JSON decoding and
// rule tree) of Defender for Cloud rows with the walkthrough's rules.
func BenchmarkAnalyzeAzureRows(b *testing.B) {
	posture, err := os.ReadFile(filepath.Join("..", "..", "etc", "quickstart", "rules", "azure_posture.xml"))
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(b, map[string]string{"azure_posture.xml": string(posture)}, nil)
	lines := readLines(b, filepath.Join("..", "..", "etc", "quickstart", "events", "log-analytics-defender.json"))
	evs := make([]event.Event, len(lines))
	var bytes int64
	for i, l := range lines {
		evs[i] = event.Event{Log: l, Format: event.FormatJSON, Location: "Azure"}
		bytes += int64(len(l))
	}
	b.SetBytes(bytes / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Analyze(evs[i%len(evs)])
	}
}

// BenchmarkDecodeSyslog measures pre-decoding plus a parent/child decoder
// with prematch and regex, and rule matching on the result.
func BenchmarkDecodeSyslog(b *testing.B) {
	e := newEngine(b, map[string]string{"test_rules.xml": testRules}, map[string]string{"test_decoders.xml": testDecoders})
	ev := event.Event{Log: "Feb  9 11:44:56 host sshd[1234]: Failed password for root from 10.0.0.1 port 22 ssh2", Location: "/var/log/auth.log"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Analyze(ev)
	}
}

// BenchmarkJSONDecoder measures the JSON_Decoder plugin alone.
func BenchmarkJSONDecoder(b *testing.B) {
	lines := readLines(b, filepath.Join("..", "..", "etc", "quickstart", "events", "log-analytics-defender.json"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := Decoded{}
		if err := decodeJSON(&d, lines[i%len(lines)], ""); err != nil {
			b.Fatal(err)
		}
	}
}
