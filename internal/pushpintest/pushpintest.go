// Package pushpintest runs a real Pushpin for tests, the way httptest runs
// an HTTP server: each Start gets its own config, run directory and free
// loopback ports, so tests may run in parallel. It uses the pushpin found on
// PATH and never installs anything; without one, the test is skipped.
package pushpintest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leaderboardhq/leaderboard/internal/testapp"
)

// Tunables, variables so a test that needs more patience can raise them.
var (
	// StartTimeout bounds the wait for pushpin to accept on both ports.
	StartTimeout = 30 * time.Second
	// StopTimeout bounds the wait after SIGTERM before the process group is
	// killed.
	StopTimeout = 10 * time.Second
)

// BaseConfigPaths are tried in order for the pushpin.conf to start from.
var BaseConfigPaths = []string{"/etc/pushpin/pushpin.conf", "/usr/local/etc/pushpin/pushpin.conf"}

// Pushpin is a running pushpin.
type Pushpin struct {
	// ClientURL is where clients connect, e.g. http://127.0.0.1:40123.
	ClientURL string
	// ControlURL is the control API (publish), e.g. http://127.0.0.1:40124.
	ControlURL string
	// Key is pushpin's sig_key: proxied requests carry a Grip-Sig signed
	// with it (iss "pushpin").
	Key string
	// Dir holds pushpin.conf and routes.
	Dir string

	cmd    *exec.Cmd
	probe  *http.Server
	out    *testapp.SyncBuffer
	exited chan struct{}
	runErr error // valid once exited is closed
}

// GripURL is the GRIP_URL a backend behind this pushpin would be given.
func (p *Pushpin) GripURL() string {
	return p.ControlURL + "?key=" + url.QueryEscape(p.Key)
}

// Output is pushpin's combined log so far.
func (p *Pushpin) Output() string { return p.out.String() }

// Start runs pushpin in front of backendAddr ("127.0.0.1:8080" or a URL such
// as httptest.Server.URL) and stops it when the test ends. It skips the test
// when pushpin is not on PATH, unless PUSHPIN_REQUIRED is set (for CI, where
// a missing pushpin must fail rather than pass quietly).
func Start(t testing.TB, backendAddr string) *Pushpin {
	t.Helper()
	bin, err := exec.LookPath("pushpin")
	if err != nil {
		if os.Getenv("PUSHPIN_REQUIRED") != "" {
			t.Fatalf("pushpin not on PATH and PUSHPIN_REQUIRED is set: %v", err)
		}
		t.Skip("pushpin not on PATH: apt-get install -y pushpin to run the GRIP tests")
	}
	base, err := readBaseConfig()
	if err != nil {
		t.Fatalf("pushpintest: %v", err)
	}
	target, err := routeTarget(backendAddr)
	if err != nil {
		t.Fatalf("pushpintest: %v", err)
	}

	// Free ports are found by binding and releasing them, so another process
	// can take one before pushpin binds it. Pushpin then exits at once, and a
	// new attempt with new ports is cheap.
	const attempts = 3
	var errs []error
	for i := 0; i < attempts; i++ {
		began := time.Now()
		p, err := start(t, bin, base, target)
		if err == nil {
			t.Logf("pushpintest: pushpin ready in %v (client %s, control %s)", time.Since(began).Round(time.Millisecond), p.ClientURL, p.ControlURL)
			return p
		}
		errs = append(errs, err)
		if !errors.Is(err, errExited) {
			break
		}
	}
	t.Fatalf("pushpintest: %v", errors.Join(errs...))
	return nil
}

var errExited = errors.New("pushpin exited during start-up")

func start(t testing.TB, bin, base, target string) (*Pushpin, error) {
	dir := t.TempDir()
	// ZeroMQ ipc endpoints are unix sockets, whose paths must stay under 108
	// bytes; t.TempDir() paths grow with the test name, so the run directory
	// gets a short path of its own.
	rundir, err := os.MkdirTemp("", "pushpin")
	if err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	// Registered before the cleanup that stops pushpin, so it runs after it.
	t.Cleanup(func() { _ = os.RemoveAll(rundir) })
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	clientPort, controlPort := ports[0], ports[1]
	key := randomKey()

	conf := testConfig(base, rundir, filepath.Join(dir, "log"), clientPort, controlPort, key)
	confPath := filepath.Join(dir, "pushpin.conf")
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	probe, probeAddr, err := startProbe()
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = probe.Close() })
	routes := fmt.Sprintf("*,path_beg=%s %s\n* %s\n", probePath, probeAddr, target)
	if err := os.WriteFile(filepath.Join(dir, "routes"), []byte(routes), 0o644); err != nil {
		return nil, fmt.Errorf("write routes: %w", err)
	}

	p := &Pushpin{
		ClientURL:  fmt.Sprintf("http://127.0.0.1:%d", clientPort),
		ControlURL: fmt.Sprintf("http://127.0.0.1:%d", controlPort),
		Key:        key,
		Dir:        dir,
		probe:      probe,
		out:        &testapp.SyncBuffer{},
		exited:     make(chan struct{}),
	}
	p.cmd = exec.Command(bin, "--config", confPath, "--merge-output")
	p.cmd.Dir = dir
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = sysProcAttr()
	// The runner's children inherit its stdout; should one outlive it, Wait
	// must not block on the pipe forever.
	p.cmd.WaitDelay = 2 * time.Second
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.runErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("pushpin output (%s):\n%s", dir, p.Output())
		}
	})

	if err := p.waitReady(clientPort, controlPort); err != nil {
		return nil, fmt.Errorf("%w\npushpin output:\n%s", err, p.Output())
	}
	return p, nil
}

// testConfig turns the packaged pushpin.conf into one for a private
// instance.
func testConfig(base, rundir, logdir string, clientPort, controlPort int, key string) string {
	ipc := func(name string) string { return "ipc://{rundir}/{ipc_prefix}" + name }
	c := base
	c = setKey(c, "global", "rundir", rundir)
	// The ports below are absolute; port_offset would shift them.
	c = setKey(c, "global", "port_offset", "0")

	services, _ := getKey(c, "runner", "services")
	// Debian's internal.conf points the proxy at a system zurl daemon
	// (/var/run/zurl); run our own instead, or proxied requests hang.
	c = setKey(c, "runner", "services", withZurl(services))
	// An address keeps condure off the other interfaces (it binds 0.0.0.0
	// for a bare port).
	c = setKey(c, "runner", "http_port", fmt.Sprintf("127.0.0.1:%d", clientPort))
	c = setKey(c, "runner", "logdir", logdir)

	c = setKey(c, "proxy", "routesfile", "routes")
	c = setKey(c, "proxy", "sig_key", key)
	c = setKey(c, "proxy", "sig_iss", "pushpin")
	// Error responses that say what was wrong with a GRIP instruction, e.g.
	// "channel 'x' specifies prev-id, but no next link found".
	c = setKey(c, "proxy", "debug", "true")
	c = setKey(c, "proxy", "zurl_out_specs", ipc("zurl-in"))
	c = setKey(c, "proxy", "zurl_out_stream_specs", ipc("zurl-in-stream"))
	c = setKey(c, "proxy", "zurl_in_specs", ipc("zurl-out"))

	// The packaged config binds these on fixed TCP ports (5560, 5562, 5563),
	// which parallel instances would fight over; unix sockets in the run
	// directory are private to this instance.
	c = setKey(c, "handler", "push_in_spec", ipc("push-in"))
	c = setKey(c, "handler", "push_in_sub_specs", ipc("push-in-sub"))
	c = setKey(c, "handler", "command_spec", ipc("command"))
	c = setKey(c, "handler", "push_in_http_addr", "127.0.0.1")
	c = setKey(c, "handler", "push_in_http_port", fmt.Sprint(controlPort))
	// Raised from the defaults (2500 deliveries/s, 25000 queued): every
	// subscriber a message goes to counts once, so fan-out tests would
	// otherwise measure Pushpin's rate limiter and lose messages past the
	// high-water mark.
	c = setKey(c, "handler", "message_rate", "1000000")
	c = setKey(c, "handler", "message_hwm", "10000000")
	return c
}

func (p *Pushpin) waitReady(clientPort, controlPort int) error {
	deadline := time.Now().Add(StartTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		// Open ports are not enough: for a while after start-up the proxy
		// cannot hand held requests to the handler yet and answers
		// "Accept service unavailable" or drops them. Only a GRIP hold
		// that comes back through the whole chain shows it is ready.
		if accepts(clientPort) && accepts(controlPort) && p.probeHold() {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w: %v", errExited, p.runErr)
		case <-tick.C:
			if time.Now().After(deadline) {
				return fmt.Errorf("pushpin not ready after %v (client port %d, control port %d)", StartTimeout, clientPort, controlPort)
			}
		}
	}
}

// probePath is routed to the harness's own backend, so readiness can be
// checked without knowing what the test's backend answers.
const probePath = "/.pushpintest/"

const probeBody = "pushpintest ready\n"

func startProbe() (*http.Server, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("probe backend: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Grip-Hold", "stream")
			w.Header().Set("Grip-Channel", "pushpintest-probe")
			_, _ = io.WriteString(w, probeBody)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	return srv, l.Addr().String(), nil
}

// probeHold reports whether a request through pushpin came back held with
// the probe's body.
func (p *Pushpin) probeHold() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.ClientURL+probePath+"ready", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return false
	}
	// Closing ends the held stream; pushpin drops the subscription.
	defer resp.Body.Close()
	buf := make([]byte, len(probeBody))
	_, err = io.ReadFull(resp.Body, buf)
	return err == nil && string(buf) == probeBody && resp.Header.Get("Grip-Hold") == ""
}

func (p *Pushpin) stop(t testing.TB) {
	select {
	case <-p.exited:
		killGroup(p.cmd)
		return
	default:
	}
	// SIGTERM to the runner stops its children (condure, zurl, proxy,
	// handler) too.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(StopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		t.Errorf("pushpintest: pushpin ignored SIGTERM for %v; killing its process group", StopTimeout)
	}
	// Whatever survived the runner goes with its group.
	killGroup(p.cmd)
	<-p.exited
}

func accepts(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	// All listeners stay open until every port is picked, so the n ports
	// differ.
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func readBaseConfig() (string, error) {
	for _, path := range BaseConfigPaths {
		b, err := os.ReadFile(path)
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
	}
	return "", fmt.Errorf("no pushpin.conf in %v to start from", BaseConfigPaths)
}

// routeTarget turns "127.0.0.1:8080" or "http://127.0.0.1:8080" into the
// host:port a routes line wants.
func routeTarget(addr string) (string, error) {
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", fmt.Errorf("backend address: %w", err)
		}
		if u.Scheme != "http" {
			return "", fmt.Errorf("backend address %q: only http backends are routed", addr)
		}
		addr = u.Host
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("backend address %q: %w", addr, err)
	}
	return addr, nil
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails on Linux (crypto/rand docs)
	return hex.EncodeToString(b)
}
