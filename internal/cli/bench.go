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
	memProfile := fs.String("memprofile", "", "write a heap profile at the end to this file")
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
	in, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(io.Err, "tld bench: %v\n", err)
		return 1
	}
	defer in.Close()
	start := time.Now()
	env, code := setup(ctx, setupOptions{configPath: *cfgPath, rulesetDirs: dirs, logger: newLogger(io.Err, 8)}, IO{In: io.In, Out: io.Out, Err: discard{}})
	if env == nil {
		// Run again with messages shown, so the user sees why.
		setup(ctx, setupOptions{configPath: *cfgPath, rulesetDirs: dirs}, io)
		return code
	}
	loadTime := time.Since(start)

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
	// Lines stream from the file in chunks through a short queue, as an
	// input would hand them over, so memory is the engine's, not the
	// corpus's.
	const chunk = 256
	chunks := make(chan []string, 2**workers)
	var alerts atomic.Int64
	var total int64
	var readErr error
	var wg sync.WaitGroup
	began := time.Now()
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lines := range chunks {
				var n int64
				for _, l := range lines {
					if env.engine.Analyze(event.Event{Log: l, Format: f, Location: "bench"}).Alert != nil {
						n++
					}
				}
				alerts.Add(n)
			}
		}()
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	batch := make([]string, 0, chunk)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			continue
		}
		batch = append(batch, l)
		total++
		if len(batch) == chunk {
			chunks <- batch
			batch = make([]string, 0, chunk)
		}
	}
	if len(batch) > 0 {
		chunks <- batch
	}
	readErr = sc.Err()
	close(chunks)
	wg.Wait()
	if readErr != nil {
		fmt.Fprintf(io.Err, "tld bench: read %s: %v\n", fs.Arg(0), readErr)
		return 1
	}
	if total == 0 {
		fmt.Fprintf(io.Err, "tld bench: %s holds no event\n", fs.Arg(0))
		return 1
	}
	secs := time.Since(began).Seconds()
	if *memProfile != "" {
		if pf, err := os.Create(*memProfile); err == nil {
			pprof.WriteHeapProfile(pf)
			pf.Close()
		}
	}
	fmt.Fprintf(io.Out, "events=%d seconds=%.3f eps=%.0f alerts=%d workers=%d load_seconds=%.3f peak_rss_mb=%.1f ruleset=%q\n",
		total, secs, float64(total)/secs, alerts.Load(), *workers, loadTime.Seconds(), peakRSSMiB(), env.set.Stats())
	return 0
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

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
