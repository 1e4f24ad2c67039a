package config

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverShowsItsValue(t *testing.T) {
	const value = "hunter2-very-secret"
	s := NewSecret(value)
	type holder struct {
		Key    Secret
		hidden Secret
	}
	h := holder{Key: s, hidden: s}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h), fmt.Sprintf(verb, []Secret{s}))
	}
	outs = append(outs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s, h))
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	type doc struct{ Key Secret }
	x, err := xml.Marshal(doc{s})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(x))
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("creds", "key", s, "holder", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("creds", "key", s)
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, value) || strings.Contains(o, fmt.Sprintf("%x", value)) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if !strings.Contains(string(j), `"Key":"[REDACTED]"`) {
		t.Errorf("JSON = %s", j)
	}
	if !strings.Contains(buf.String(), `"key":"[REDACTED]"`) {
		t.Errorf("slog = %s", buf.String())
	}
	if s.Reveal() != value {
		t.Error("Reveal does not return the value")
	}
}

func TestEmptySecret(t *testing.T) {
	var s Secret
	if !s.IsZero() || s.Reveal() != "" || s.String() != "" || !NewSecret("").IsZero() {
		t.Error("the zero Secret is not empty")
	}
	if j, _ := json.Marshal(s); string(j) != `""` {
		t.Errorf("JSON = %s", j)
	}
	if NewSecret("x").IsZero() {
		t.Error("a set Secret is zero")
	}
}
