package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/tld/internal/event"
)

func benchCommand(ctx context.Context, args []string, io IO) int {
	fs := newFlagSet("bench", "bench [--ruleset DIR]... [-c FILE] [--workers N] [--format syslog|json] FILE", io)
	var dirs stringList
	fs.Var(&dirs, "ruleset", "analyse with DIR/decoders, DIR/rules and DIR/lists (repeatable) instead of the built-in ruleset")
	cfgPath := fs.String("c", "", "ossec.conf whose ruleset to use")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "analysis goroutines")
	format := fs.String("format", "syslog", "how to pre-decode the lines: syslog or json")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the analysis to this file")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 || *workers < 1 {
		fs.Usage()
		return 2
	}
	f := event.FormatSyslog
	if *format == "json" {
		f = event.FormatJSON
	}
	lines, err := readLinesFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(io.Err, "tld bench: %v\n", err)
		return 1
	}
	if len(lines) == 0 {
		fmt.Fprintf(io.Err, "tld bench: %s holds no event\n", fs.Arg(0))
		return 1
	}
	start := time.Now()
	env, code := setup(ctx, setupOptions{configPath: *cfgPath, rulesetDirs: dirs, logger: newLogger(io.Err, 8)}, IO{In: io.In, Out: io.Out, Err: discard{}})
	if env == nil {
		// Run again with messages shown, so the user sees why.
		setup(ctx, setupOptions{configPath: *cfgPath, rulesetDirs: dirs}, io)
		return code
	}
	loadTime := time.Since(start)

	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		evs[i] = event.Event{Log: l, Format: f, Location: "bench"}
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(io.Err, "tld bench: %v\n", err)
			return 1
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintf(io.Err, "tld bench: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	var next, alerts atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			const chunk = 256
			for {
				i := next.Add(chunk) - chunk
				if i >= int64(len(evs)) {
					return
				}
				end := min(i+chunk, int64(len(evs)))
				for _, ev := range evs[i:end] {
					if env.engine.Analyze(ev).Alert != nil {
						alerts.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(began).Seconds()
	fmt.Fprintf(io.Out, "events=%d seconds=%.3f eps=%.0f alerts=%d workers=%d load_seconds=%.3f peak_rss_mb=%.1f ruleset=%q\n",
		len(evs), secs, float64(len(evs))/secs, alerts.Load(), *workers, loadTime.Seconds(), peakRSSMiB(), env.set.Stats())
	return 0
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func readLinesFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// peakRSSMiB is the process's resident memory high-water mark (Linux
// VmHWM); elsewhere the memory obtained from the OS by the Go runtime.
func peakRSSMiB() float64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
						return kb / 1024
					}
				}
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.Sys) / (1 << 20)
}
