package cli

import (
	"bytes"
	"context"
	"fmt"
	goio "io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
	// Lines stream from the file: read in blocks, cut into lines that
	// share their block, handed to the workers through a short queue. The
	// memory measured is the engine's, not the corpus's, and reading costs
	// the workers little.
	chunks := make(chan []string, 2**workers)
	var alerts atomic.Int64
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
	total, readErr := streamLines(in, chunks)
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

// streamLines reads r in 1 MiB blocks and sends its non-empty lines, in
// groups of 256, as substrings of their block.
func streamLines(r goio.Reader, out chan<- []string) (int64, error) {
	const block, group = 1 << 20, 256
	var total int64
	var carry []byte
	batch := make([]string, 0, group)
	send := func() {
		if len(batch) > 0 {
			out <- batch
			batch = make([]string, 0, group)
		}
	}
	add := func(line string) {
		if line = strings.TrimRight(line, "\r"); line != "" {
			batch = append(batch, line)
			total++
			if len(batch) == group {
				send()
			}
		}
	}
	for {
		buf := make([]byte, len(carry), len(carry)+block)
		copy(buf, carry)
		n, err := goio.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		last := bytes.LastIndexByte(buf, '\n')
		text := ""
		if last >= 0 {
			text = unsafe.String(unsafe.SliceData(buf), last)
			carry = append([]byte(nil), buf[last+1:]...)
		} else {
			carry = buf
		}
		for text != "" {
			line := text
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				line, text = text[:i], text[i+1:]
			} else {
				text = ""
			}
			add(line)
		}
		if err == goio.EOF || err == goio.ErrUnexpectedEOF {
			if len(carry) > 0 {
				add(string(carry))
			}
			send()
			return total, nil
		}
		if err != nil {
			send()
			return total, err
		}
	}
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
