package blob

import (
	"errors"
	"fmt"
	"github.com/threatlockdown/tld/internal/syncbuf"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Azurite's development account, as its documentation publishes it: a
// well-known public key, not a secret.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azurite is one Azurite blob service, shared by the package's tests (each
// test uses its own containers). It is started by the first test that needs
// it and stopped by TestMain.
type azurite struct {
	cmd      *exec.Cmd
	dir      string
	out      *syncBuffer
	exited   chan struct{}
	endpoint string // with "{account}", as <storage_endpoint> takes it
}

var (
	azOnce sync.Once
	az     *azurite
	azErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if az != nil {
		az.stop()
	}
	os.Exit(code)
}

// needAzurite returns the running emulator, starting it if needed. Without
// Azurite installed the test fails (CI installs it through scripts/test),
// except under -short, where tests that need it are skipped.
func needAzurite(t *testing.T) *azurite {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Azurite: skipped under -short")
	}
	azOnce.Do(func() { az, azErr = startAzurite() })
	if azErr != nil {
		t.Fatal(azErr)
	}
	return az
}

// azuriteBinary finds azurite-blob: $AZURITE_BLOB, or where scripts/azurite
// installs it under the repository's root.
func azuriteBinary() (string, error) {
	if p := os.Getenv("AZURITE_BLOB"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("AZURITE_BLOB=%s: %v (unset it and run scripts/azurite to install Azurite)", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".cache", "azurite", "node_modules", ".bin", "azurite-blob")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("Azurite is not installed (no %s): run scripts/azurite, or set AZURITE_BLOB to an azurite-blob executable; go test -short skips these tests", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("Azurite: repository root (go.mod) not found above the test's directory: run scripts/azurite, or set AZURITE_BLOB")
		}
		dir = parent
	}
}

func startAzurite() (*azurite, error) {
	bin, err := azuriteBinary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return nil, err
	}
	a := &azurite{dir: dir, out: &syncBuffer{}, exited: make(chan struct{}),
		endpoint: fmt.Sprintf("http://127.0.0.1:%d/{account}", port)}
	a.cmd = exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", dir, "--disableTelemetry", "--skipApiVersionCheck", "--loose")
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	dieWithParent(a.cmd)
	if err := a.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		a.cmd.Wait()
		close(a.exited)
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/%s?comp=list", port, devAccount)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-a.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("azurite exited before it was ready:\n%s", a.out.String())
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return a, nil // any answer (403: unsigned) means it listens
		}
		if time.Now().After(deadline) {
			a.stop()
			return nil, fmt.Errorf("azurite not ready after 60s:\n%s", a.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (a *azurite) stop() {
	if a.cmd.Process != nil {
		a.cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.exited:
		case <-time.After(5 * time.Second):
			a.cmd.Process.Kill()
			<-a.exited
		}
	}
	os.RemoveAll(a.dir)
}

type syncBuffer = syncbuf.Buffer
