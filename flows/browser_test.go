package flows

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waitFile waits (bounded) for the helper browser to write its arguments.
func waitFile(t *testing.T, path string) (string, bool) {
	t.Helper()
	for range 200 {
		b, err := os.ReadFile(path)
		if err == nil {
			return string(b), true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return "", false
}

func TestBrowserOpen(t *testing.T) {
	const u = "http://127.0.0.1:1/authorize?client_id=x&state=y"
	type result struct {
		Err     string // "" = no error
		Started bool   // the helper browser ran
		Args    string // its arguments after OUTFILE, one per line
		Output  string // what reached Stderr
	}
	cases := []struct {
		name string
		env  func(out string) map[string]string
		goos string
		url  string
		want result
	}{
		{
			name: "DCRCTL_BROWSER with the placeholder replaced, split like a shell",
			env: func(out string) map[string]string {
				return map[string]string{"DCRCTL_BROWSER": helperCommand(t, out, "--new-window", "a b", "--url=%s")}
			},
			want: result{Started: true, Args: "--new-window\na b\n--url=" + u, Output: "helper-stdout\nhelper-stderr\n"},
		},
		{
			name: "BROWSER without placeholder gets the URL appended, even over SSH and without display",
			env: func(out string) map[string]string {
				return map[string]string{"BROWSER": helperCommand(t, out), "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}
			},
			want: result{Started: true, Args: u, Output: "helper-stdout\nhelper-stderr\n"},
		},
		{
			name: "DCRCTL_BROWSER wins over BROWSER",
			env: func(out string) map[string]string {
				return map[string]string{"DCRCTL_BROWSER": helperCommand(t, out, "first"), "BROWSER": "/nonexistent/browser"}
			},
			want: result{Started: true, Args: "first\n" + u, Output: "helper-stdout\nhelper-stderr\n"},
		},
		{
			name: "BROWSER list: the first that starts is used",
			env: func(out string) map[string]string {
				return map[string]string{"BROWSER": "/nonexistent/browser" + string(os.PathListSeparator) + helperCommand(t, out)}
			},
			want: result{Started: true, Args: u, Output: "helper-stdout\nhelper-stderr\n"},
		},
		{
			name: "DCRCTL_BROWSER that cannot start",
			env:  func(string) map[string]string { return map[string]string{"DCRCTL_BROWSER": "/nonexistent/browser --x"} },
			want: result{Err: "flows: open browser: DCRCTL_BROWSER: fork/exec /nonexistent/browser: no such file or directory"},
		},
		{
			name: "DCRCTL_BROWSER with an unbalanced quote",
			env:  func(string) map[string]string { return map[string]string{"DCRCTL_BROWSER": `firefox "oops`} },
			want: result{Err: `flows: open browser: DCRCTL_BROWSER: cannot split "firefox \"oops" like a shell: EOF found when expecting closing quote`},
		},
		{
			name: "over SSH, no program named: not tried",
			env: func(string) map[string]string {
				return map[string]string{"SSH_TTY": "/dev/pts/1", "DISPLAY": ":0"}
			},
			goos: "linux",
			want: result{Err: ErrNoBrowser.Error()},
		},
		{
			name: "Linux without DISPLAY or WAYLAND_DISPLAY: not tried",
			env:  func(string) map[string]string { return map[string]string{} },
			goos: "linux",
			want: result{Err: ErrNoBrowser.Error()},
		},
		{
			name: "a javascript: URL is never opened",
			env: func(out string) map[string]string {
				return map[string]string{"DCRCTL_BROWSER": helperCommand(t, out)}
			},
			url:  "javascript:alert(1)",
			want: result{Err: `flows: open browser: only http and https URLs are opened, not "javascript:"`},
		},
		{
			name: "a file: URL is never opened",
			env: func(out string) map[string]string {
				return map[string]string{"DCRCTL_BROWSER": helperCommand(t, out)}
			},
			url:  "file:///etc/passwd",
			want: result{Err: `flows: open browser: only http and https URLs are opened, not "file:///etc/passwd"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "args")
			env := tc.env(out)
			stderr, err := os.Create(filepath.Join(dir, "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			target := tc.url
			if target == "" {
				target = u
			}
			b := Browser{Getenv: func(k string) string { return env[k] }, Stderr: stderr, GOOS: tc.goos}
			var got result
			if err := b.Open(target); err != nil {
				got.Err = err.Error()
			} else {
				got.Args, got.Started = waitFile(t, out)

			}
			if got.Started {
				// The helper writes its output before its arguments file.
				data, _ := os.ReadFile(stderr.Name())
				got.Output = string(data)
			} else if _, err := os.Stat(out); err == nil {
				got.Started = true
			}
			if got != tc.want {
				t.Errorf("Open(%q)\n got: %+v\nwant: %+v", target, got, tc.want)
			}
		})
	}
}

// TestBrowserOpenDefault runs the desktop default through pkg/browser, with a fake xdg-open
// first on PATH, and checks that its output goes to Stderr, not to stdout.
func TestBrowserOpenDefault(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser runs xdg-open only on Linux")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho xdg-stdout\necho xdg-stderr >&2\nprintf %s \"$1\" > " + shq(out) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	env := map[string]string{"DISPLAY": ":0"}
	const u = "https://idp.example/authorize?x=1"
	if err := (Browser{Getenv: func(k string) string { return env[k] }, Stderr: stderr, GOOS: "linux"}).Open(u); err != nil {
		t.Fatalf("Open: %v", err)
	}
	args, _ := os.ReadFile(out) // pkg/browser waits for xdg-open
	output, _ := os.ReadFile(stderr.Name())
	if got, want := string(args)+"|"+string(output), u+"|xdg-stdout\nxdg-stderr\n"; got != want {
		t.Errorf("xdg-open got %q, want %q", got, want)
	}
}

func TestErrNoBrowserIsMatchable(t *testing.T) {
	err := Browser{Getenv: func(string) string { return "" }, GOOS: "freebsd"}.Open("https://x.example/")
	if !errors.Is(err, ErrNoBrowser) || !strings.Contains(err.Error(), "DCRCTL_BROWSER") {
		t.Fatalf("got %v, want ErrNoBrowser naming DCRCTL_BROWSER", err)
	}
}
