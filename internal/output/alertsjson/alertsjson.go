// Package alertsjson writes Wazuh's alert log files under DATA/alerts:
// alerts.json (one JSON alert per line), and on request alerts.log (Wazuh's
// text layout), archives.json and archives.log (every analysed event).
package alertsjson

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// Options choose the files, as <global> does in ossec.conf.
type Options struct {
	Dir         string // DATA/alerts
	AlertsJSON  bool   // <jsonout_output>
	AlertsLog   bool   // <alerts_log>
	ArchiveLog  bool   // <logall>
	ArchiveJSON bool   // <logall_json>
	Logger      *slog.Logger
}

// Output appends to the alert files. Flush writes buffers and fsyncs, so
// an acknowledged batch survives a crash.
type Output struct {
	opts           Options
	mu             sync.Mutex
	files          []*logFile
	aj, al, rj, rl *logFile
}

type logFile struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	dirty bool
}

// New opens (creating as needed) the files the options ask for.
func New(opts Options) (*Output, error) {
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create alerts directory: %w", err)
	}
	o := &Output{opts: opts}
	open := func(name string) (*logFile, error) {
		p := filepath.Join(opts.Dir, name)
		sep := "\n"
		if name == "alerts.log" {
			sep = "\n\n"
		}
		dropped, err := dropPartialRecord(p, sep)
		if err != nil {
			return nil, err
		}
		if dropped > 0 && opts.Logger != nil {
			opts.Logger.Warn("dropped the partial last record left by a crash; its batch is read again", "file", p, "bytes", dropped)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", p, err)
		}
		lf := &logFile{path: p, f: f, w: bufio.NewWriterSize(f, 256<<10)}
		o.files = append(o.files, lf)
		return lf, nil
	}
	var err error
	for _, x := range []struct {
		on   bool
		name string
		dst  **logFile
	}{{opts.AlertsJSON, "alerts.json", &o.aj}, {opts.AlertsLog, "alerts.log", &o.al}, {opts.ArchiveJSON, "archives.json", &o.rj}, {opts.ArchiveLog, "archives.log", &o.rl}} {
		if !x.on {
			continue
		}
		if *x.dst, err = open(x.name); err != nil {
			o.Close()
			return nil, err
		}
	}
	return o, nil
}

// dropPartialRecord cuts a file back to its last complete record and
// returns how many bytes it dropped. A crash can leave half a record at the
// end (a buffer written out before its batch was flushed); that batch was
// never acknowledged, so its input replays it whole and nothing is lost.
func dropPartialRecord(path, sep string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return 0, nil
	}
	// Look back in growing windows for the last separator.
	for window := int64(64 << 10); ; window *= 4 {
		start := max(size-window, 0)
		buf := make([]byte, size-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		if strings.HasSuffix(string(buf), sep) {
			return 0, nil
		}
		i := strings.LastIndex(string(buf), sep)
		if i < 0 && start > 0 {
			continue
		}
		keep := int64(0)
		if i >= 0 {
			keep = start + int64(i+len(sep))
		}
		if err := f.Truncate(keep); err != nil {
			return 0, fmt.Errorf("truncate the partial last record of %s: %w", path, err)
		}
		return size - keep, f.Sync()
	}
}

// Name implements pipeline.Output.
func (o *Output) Name() string { return "alerts-files" }

// WantsArchives implements pipeline.ArchiveWanter.
func (o *Output) WantsArchives() bool { return o.opts.ArchiveJSON || o.opts.ArchiveLog }

// Paths lists the files being written.
func (o *Output) Paths() []string {
	var out []string
	for _, f := range o.files {
		out = append(out, f.path)
	}
	return out
}

// Write implements pipeline.Output.
func (o *Output) Write(_ context.Context, recs pipeline.Records) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, a := range recs.Alerts {
		if o.aj != nil {
			if err := o.aj.writeJSON(a); err != nil {
				return err
			}
		}
		if o.al != nil {
			if err := o.al.writeText(a); err != nil {
				return err
			}
		}
	}
	for _, a := range recs.Archives {
		if o.rj != nil {
			if err := o.rj.writeJSON(a); err != nil {
				return err
			}
		}
		if o.rl != nil {
			o.rl.dirty = true
			if _, err := fmt.Fprintf(o.rl.w, "%s %s->%s %s\n", a.Timestamp.Format("2006 Jan 02 15:04:05"), agentLabel(a), a.Location, oneLine(a.FullLog)); err != nil {
				return fmt.Errorf("write %s: %w", o.rl.path, err)
			}
		}
	}
	return nil
}

func (f *logFile) writeJSON(a *alert.Alert) error {
	b := append(a.JSON(), '\n')
	f.dirty = true
	if _, err := f.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// writeText writes Wazuh's alerts.log layout.
func (f *logFile) writeText(a *alert.Alert) error {
	f.dirty = true
	var b strings.Builder
	groups := strings.Join(a.Rule.Groups, ",")
	if groups != "" {
		groups += ","
	}
	fmt.Fprintf(&b, "** Alert %s: - %s\n", a.ID, groups)
	fmt.Fprintf(&b, "%s %s->%s\n", a.Timestamp.Format("2006 Jan 02 15:04:05"), agentLabel(a), a.Location)
	fmt.Fprintf(&b, "Rule: %s (level %d) -> '%s'\n", a.Rule.ID, a.Rule.Level, oneLine(a.Rule.Description))
	for _, fld := range a.Data {
		fmt.Fprintf(&b, "%s: %s\n", fld.Key, oneLine(fld.Value))
	}
	if a.FullLog != "" {
		b.WriteString(oneLine(a.FullLog))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if _, err := f.w.WriteString(b.String()); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

func agentLabel(a *alert.Alert) string {
	if a.Agent.ID == "" || a.Agent.ID == "000" {
		return a.Manager
	}
	return fmt.Sprintf("(%s) %s", a.Agent.Name, a.Agent.IP)
}

// oneLine keeps a record on one line, whatever the event held.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// Flush implements pipeline.Output: buffers to the kernel, then fsync.
func (o *Output) Flush(_ context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	for _, f := range o.files {
		if !f.dirty {
			continue
		}
		if err := f.w.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", f.path, err))
			continue
		}
		if err := f.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", f.path, err))
			continue
		}
		f.dirty = false
	}
	return errors.Join(errs...)
}

// Close implements pipeline.Output.
func (o *Output) Close() error {
	err := o.Flush(context.Background())
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.files {
		if cerr := f.f.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}
	o.files = nil
	return err
}
