package alertstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/pipeline"
	"github.com/threatlockdown/tld/internal/store"
)

func newAlert(id string) *alert.Alert {
	return &alert.Alert{
		Timestamp: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		ID:        id,
		Rule:      &alert.Rule{ID: "5710", Level: 5, Description: "sshd: invalid user", Groups: []string{"sshd"}},
		Agent:     alert.Agent{ID: "001", Name: "web-01"},
		Location:  "/var/log/auth.log",
	}
}

func TestOutput(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "alerts.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := New(s)
	count := func() int {
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Alerts
	}
	t.Run("its name is store", func(t *testing.T) {
		if o.Name() != "store" {
			t.Fatalf("Name = %q", o.Name())
		}
	})
	t.Run("Write buffers until Flush", func(t *testing.T) {
		if err := o.Write(ctx, pipeline.Records{Alerts: []*alert.Alert{newAlert("a"), newAlert("b")}, Archives: []*alert.Alert{newAlert("arch")}}); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 0 {
			t.Fatalf("%d alerts stored before Flush", n)
		}
		if err := o.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d alerts stored after Flush, want 2 (archives are not stored)", n)
		}
	})
	t.Run("a second Flush inserts nothing twice", func(t *testing.T) {
		if err := o.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := o.Write(ctx, pipeline.Records{Alerts: []*alert.Alert{newAlert("a"), newAlert("c")}}); err != nil {
			t.Fatal(err)
		}
		if err := o.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 3 {
			t.Fatalf("%d alerts stored, want 3", n)
		}
	})
	t.Run("Close flushes and leaves the store open", func(t *testing.T) {
		if err := o.Write(ctx, pipeline.Records{Alerts: []*alert.Alert{newAlert("d")}}); err != nil {
			t.Fatal(err)
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 4 {
			t.Fatalf("%d alerts stored after Close, want 4", n)
		}
	})
	t.Run("a failed flush keeps the buffer for a retry", func(t *testing.T) {
		o := New(s)
		if err := o.Write(ctx, pipeline.Records{Alerts: []*alert.Alert{newAlert("e")}}); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := o.Flush(cancelled); err == nil {
			t.Fatal("Flush with a cancelled context succeeded")
		}
		if err := o.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 5 {
			t.Fatalf("%d alerts stored after retry, want 5", n)
		}
	})
}
