package bench_test

// BenchmarkGeneratorCPU compares the load generator's CPU time with the server's: the server
// runs in a child process (this test binary re-executed as `dcrctl serve` would run it: the
// real testserver with a SQLite file on a loopback listener), the engine in this one. Its
// figure gen/server-cpu is the generator's user+system CPU divided by the server's over the
// same run; below 1 means the generator is not the bottleneck.
//
//	go test -run '^$' -bench BenchmarkGeneratorCPU -benchtime 5000x ./client/bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/client/bench"
	"github.com/dcrctl/dcrctl/testserver"
)

const childEnv = "DCRCTL_BENCH_SERVER_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(serveChild(dir))
	}
	os.Exit(m.Run())
}

// serveChild runs the server until its stdin closes, after printing its issuer and the
// bootstrap secret as one JSON line.
func serveChild(dir string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := testserver.DefaultConfig()
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.DBPath = filepath.Join(dir, "serve.db")
	cfg.InitialTokenUses = testserver.Reusable
	srv, err := testserver.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // EOF when the parent goes
		cancel()
	}()
	json.NewEncoder(os.Stdout).Encode(map[string]string{"issuer": cfg.Issuer, "secret": srv.Config().Clients[0].ClientSecret})
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// child is the server process.
type child struct {
	pid    int
	issuer string
	secret string
}

func startChild(b *testing.B) *child {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+b.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	var hello struct{ Issuer, Secret string }
	if err := json.NewDecoder(stdout).Decode(&hello); err != nil {
		b.Fatalf("the server child did not start: %v", err)
	}
	return &child{pid: cmd.Process.Pid, issuer: hello.Issuer, secret: hello.Secret}
}

// cpu returns the child's user+system CPU time from /proc/PID/stat (Linux).
func (c *child) cpu(b *testing.B) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.pid))
	if err != nil {
		b.Fatalf("reading the server's CPU time: %v (this benchmark needs Linux's /proc)", err)
	}
	// The fields after the command name (which is in parentheses) start with the state, field 3.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	const ticks = 100                        // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkGeneratorCPU(b *testing.B) {
	c := startChild(b)
	iat := initialToken(b, &target{issuer: c.issuer, secret: c.secret})
	for _, m := range []struct {
		name  string
		steps []bench.Step
	}{
		{"register", []bench.Step{"register"}},
		{"token", []bench.Step{"token"}},
		{"all_steps", bench.AllSteps},
	} {
		b.Run(m.name, func(b *testing.B) {
			cfg := bench.Config{Issuer: c.issuer, Steps: m.steps, Metadata: confidential, Concurrency: 32, Installs: b.N, Keep: m.name == "register"}
			if m.steps[0] == bench.StepToken {
				cfg.ClientID, cfg.ClientSecret = testserver.DefaultBootstrapClient, c.secret
			} else {
				cfg.InitialToken = iat
			}
			s0, g0 := c.cpu(b), selfCPU()
			b.ResetTimer()
			r, err := bench.Run(context.Background(), cfg)
			b.StopTimer()
			s1, g1 := c.cpu(b), selfCPU()
			if err != nil || r.Errors != 0 {
				b.Fatalf("run: %v, %d errors", err, r.Errors)
			}
			b.ReportMetric(float64(g1-g0)/float64(s1-s0), "gen/server-cpu")
			b.ReportMetric(r.RequestsPerSecond, "req/s")
			b.ReportMetric(r.Results[0].Latency.P99, "p99-ms")
		})
	}
}
