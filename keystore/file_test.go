package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openFile(t *testing.T, dir string) *indexedStore {
	t.Helper()
	s, err := Open(KindFile, Options{ConfigDir: dir, LockTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*indexedStore)
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits do not describe Windows ACLs")
	}
	base := t.TempDir()
	dir := filepath.Join(base, "cfg")
	s := openFile(t, dir)
	if err := s.Put(ctxT(t), sample("app", 1)); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		"cfg":                        fs.ModeDir | 0o700,
		"cfg/index.json":             0o600,
		"cfg/index.lock":             0o600,
		"cfg/plaintext":              fs.ModeDir | 0o700,
		"cfg/plaintext/secrets.json": 0o600,
	}
	got := map[string]fs.FileMode{}
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == base {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		got[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if fmt.Sprint(got) != fmt.Sprint(want) { // also proves no temporary file is left behind
		t.Errorf("files and modes = %v, want %v", got, want)
	}
	// The index never holds a secret.
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := sample("app", 1)
	for _, secret := range []string{c.ClientSecret, c.RegistrationAccessToken, c.RefreshToken, c.AccessToken} {
		if strings.Contains(string(idx), secret) {
			t.Errorf("index.json contains a secret (%d bytes)", len(secret))
		}
	}
}

func TestFileStoreRefusesOpenDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits do not describe Windows ACLs")
	}
	dir := t.TempDir()
	open := filepath.Join(dir, "shared")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o755) // whatever the umask
	s, err := Open(KindFile, Options{ConfigDir: dir, FileDir: open})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(ctxT(t), sample("app", 1))
	if err == nil || !strings.Contains(err.Error(), "chmod 700 "+open) {
		t.Fatalf("Put into a 0755 directory: %v, want a refusal naming chmod 700", err)
	}
	if _, err := os.Stat(filepath.Join(open, plaintextFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("secrets file written anyway: %v", err)
	}
	// Nothing half-stored: the write-ahead garbage record is all the index holds.
	if list, err := s.List(ctxT(t)); err != nil || len(list) != 0 {
		t.Errorf("List = %d, %v; want nothing", len(list), err)
	}
}

func TestCorruptFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string // relative to the config dir
		content string
	}{
		{"index not JSON", "index.json", "{\"version\":1,\"credentials\":[{"},
		{"index wrong type", "index.json", `{"version":1,"credentials":{"a":1}}`},
		{"index duplicate name", "index.json", `{"version":1,"credentials":[{"name":"a","id":"1","keystore":"file"},{"name":"a","id":"2","keystore":"file"}]}`},
		{"index without version", "index.json", `{"credentials":[]}`},
		{"index bad id", "index.json", `{"version":1,"credentials":[{"name":"a","id":"x.1","keystore":"file"}]}`},
		{"index truncated to zero", "index.json", ""},
		{"secrets not JSON", "plaintext/secrets.json", "\x00\x01garbage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openFile(t, dir)
			ctx := ctxT(t)
			if err := s.Put(ctx, sample("a", 1)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			type op struct {
				name string
				f    func() error
			}
			ops := []op{
				{"Get", func() error { _, err := s.Get(ctx, "a"); return err }},
				{"Put", func() error { return s.Put(ctx, sample("a", 2)) }},
				{"Delete", func() error { return s.Delete(ctx, "a") }}, // last: it may drop the entry
			}
			if strings.HasPrefix(tc.file, "index") {
				ops = append(ops, op{"List", func() error { _, err := s.List(ctx); return err }})
			}
			for _, o := range ops {
				op, err := o.name, o.f()
				var ce *CorruptError
				if !errors.As(err, &ce) || ce.Path != path {
					t.Errorf("%s: %v, want a *CorruptError for %s", op, err, path)
					continue
				}
				if !strings.Contains(err.Error(), "move it aside") {
					t.Errorf("%s: message %q does not name the fix", op, err)
				}
			}
			after, _ := os.ReadFile(path)
			if string(after) != tc.content {
				t.Errorf("the corrupt file was changed")
			}
		})
	}
}

func TestIndexFromNewerVersion(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, indexFile), []byte(`{"version":2,"credentials":[]}`), 0o600)
	_, err := openFile(t, dir).List(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "upgrade dcrctl") {
		t.Fatalf("List: %v, want an error asking to upgrade", err)
	}
}

func TestDefaultDirsHonourXDG(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME is the Linux convention")
	}
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	s, err := Open(KindFile, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctxT(t), sample("app", 1)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"dcrctl/index.json", "dcrctl/plaintext/secrets.json"} {
		if _, err := os.Stat(filepath.Join(xdg, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	path, err := WriteRecovery("", sample("app", 1))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != filepath.Join(xdg, "dcrctl", "recovery") {
		t.Errorf("recovery file at %s, want it under $XDG_CONFIG_HOME/dcrctl/recovery", path)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name, kind string
		opts       Options
		env        string // DCRCTL_KEYRING_TIMEOUT
		want       string // the error's text, or the store's description
	}{
		{"default is the OS keyring", "", Options{ConfigDir: "/c"}, "", "os /c dcrctl 3s 20s"},
		{"os", "os", Options{ConfigDir: "/c", Service: "svc"}, "", "os /c svc 3s 20s"},
		{"env timeout", "os", Options{ConfigDir: "/c"}, "45s", "os /c dcrctl 45s 45s"},
		{"options beat env", "os", Options{ConfigDir: "/c", ReadTimeout: time.Second}, "45s", "os /c dcrctl 1s 45s"},
		{"bad env timeout", "os", Options{ConfigDir: "/c"}, "soon", `keystore: DCRCTL_KEYRING_TIMEOUT="soon": use a positive duration such as 30s`},
		{"service with colon", "os", Options{ConfigDir: "/c", Service: "https://x"}, "", `keystore: keyring service name "https://x": use a plain name without ':' or '/'`},
		{"file", "file", Options{ConfigDir: "/c"}, "", "file /c " + filepath.Join("/c", "plaintext", "secrets.json")},
		{"unknown kind", "plaintext", Options{}, "", `keystore: unknown keystore "plaintext": use "os", "file" or "memory"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvKeyringTimeout, tc.env)
			s, err := Open(tc.kind, tc.opts)
			var got string
			switch st := s.(type) {
			case nil:
				got = err.Error()
			case *indexedStore:
				switch v := st.vault.(type) {
				case *osVault:
					got = fmt.Sprintf("%s %s %s %s %s", st.kind, st.dir, v.service, v.read, v.write)
				case *fileVault:
					got = fmt.Sprintf("%s %s %s", st.kind, st.dir, v.path)
				}
			}
			if got != tc.want {
				t.Errorf("Open = %q, want %q", got, tc.want)
			}
		})
	}
}

// faultVault wraps a vault and fails the nth call of an operation ("set", "get", "del"),
// and counts every call.
type faultVault struct {
	vault
	mu     sync.Mutex
	failOp string
	failN  int
	calls  map[string]int
}

var errInjected = errors.New("injected fault")

func (f *faultVault) hit(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	if op == f.failOp && f.calls[op] == f.failN {
		return errInjected
	}
	return nil
}
func (f *faultVault) set(ctx context.Context, a, d string) error {
	if err := f.hit("set"); err != nil {
		return err
	}
	return f.vault.set(ctx, a, d)
}
func (f *faultVault) get(ctx context.Context, a string) (string, error) {
	if err := f.hit("get"); err != nil {
		return "", err
	}
	return f.vault.get(ctx, a)
}
func (f *faultVault) del(ctx context.Context, a string) error {
	if err := f.hit("del"); err != nil {
		return err
	}
	return f.vault.del(ctx, a)
}

// entriesOf lists the account names in the plaintext secrets file.
func entriesOf(t *testing.T, s *indexedStore) []string {
	t.Helper()
	var fv *fileVault
	for v := s.vault; fv == nil; {
		switch x := v.(type) {
		case *chunky:
			v = x.faultVault
		case *faultVault:
			v = x.vault
		case *fileVault:
			fv = x
		default:
			t.Fatalf("not a file vault: %T", v)
		}
	}
	p, err := fv.load()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range p.Entries {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// liveEntries lists the account names the index points to.
func liveEntries(t *testing.T, s *indexedStore) []string {
	t.Helper()
	idx, err := readIndex(s.indexPath())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range idx.Credentials {
		if e.Secrets != nil {
			for i := range e.Secrets.Chunks {
				out = append(out, e.Secrets.account(i))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestReplaceNeverLosesBoth fails every vault call in turn during a rotation (the old
// secrets are 3 entries, the new ones 3) and checks that afterwards Get returns the old or
// the new credential, whole; then that the next successful Put leaves exactly the live
// entries in the vault (no leftover secrets).
func TestReplaceNeverLosesBoth(t *testing.T) {
	long := func(c Credential) Credential { c.RefreshToken = strings.Repeat("r", 2*maxKeyringChunk+100); return c }
	oldC, newC := long(sample("app", 1)), long(sample("app", 2))
	newC.ClientID = "rotated"
	type outcome struct{ putFailed, gotNew bool }
	tests := []struct {
		op   string
		n    int
		want outcome
	}{
		{"set", 1, outcome{putFailed: true, gotNew: false}},
		{"set", 2, outcome{putFailed: true, gotNew: false}},
		{"set", 3, outcome{putFailed: true, gotNew: false}},
		{"del", 1, outcome{putFailed: false, gotNew: true}}, // old entries stay as garbage
		{"del", 3, outcome{putFailed: false, gotNew: true}},
		{"none", 0, outcome{putFailed: false, gotNew: true}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %d", tc.op, tc.n), func(t *testing.T) {
			ctx := ctxT(t)
			s := openFile(t, t.TempDir())
			fv := &faultVault{vault: s.vault}
			s.vault = fv
			// Use small chunks so the credential spans three entries, as in the keyring.
			s.vault = &chunky{fv}
			if err := s.Put(ctx, oldC); err != nil {
				t.Fatal(err)
			}
			fv.mu.Lock()
			fv.failOp, fv.failN, fv.calls = tc.op, tc.n, nil
			fv.mu.Unlock()
			err := s.Put(ctx, newC)
			if got := err != nil; got != tc.want.putFailed {
				t.Fatalf("Put error = %v, want failure %v", err, tc.want.putFailed)
			}
			if err != nil && !errors.Is(err, errInjected) {
				t.Fatalf("Put: %v, want the injected fault", err)
			}
			got, err := s.Get(ctx, "app")
			if err != nil {
				t.Fatalf("Get after the fault: %v", err)
			}
			want := in(KindFile, oldC)
			if tc.want.gotNew {
				want = in(KindFile, newC)
			}
			if d := credDiff(got, want); d != "" {
				t.Fatalf("Get after the fault: %s", d)
			}
			// A later Put (or Delete) cleans up: only live entries remain.
			fv.mu.Lock()
			fv.failOp = ""
			fv.mu.Unlock()
			if err := s.Put(ctx, sample("other", 1)); err != nil {
				t.Fatal(err)
			}
			if got, want := entriesOf(t, s), liveEntries(t, s); !slices.Equal(got, want) {
				t.Errorf("vault entries %q, want exactly the live ones %q", got, want)
			}
			idx, _ := readIndex(s.indexPath())
			if len(idx.Garbage) != 0 {
				t.Errorf("garbage left in the index: %+v", idx.Garbage)
			}
		})
	}
}

// chunky makes a vault use keyring-sized chunks.
type chunky struct{ *faultVault }

func (c *chunky) maxChunk() int { return maxKeyringChunk }

func TestDeleteWhenVaultFails(t *testing.T) {
	ctx := ctxT(t)
	s := openFile(t, t.TempDir())
	fv := &faultVault{vault: s.vault}
	s.vault = fv
	if err := s.Put(ctx, sample("app", 1)); err != nil {
		t.Fatal(err)
	}
	fv.failOp, fv.failN = "del", 1
	err := s.Delete(ctx, "app")
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "deleted on the next change") {
		t.Fatalf("Delete: %v, want the fault and what happens next", err)
	}
	if _, err := s.Get(ctx, "app"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, sample("b", 1)); err != nil {
		t.Fatal(err)
	}
	if got, want := entriesOf(t, s), liveEntries(t, s); !slices.Equal(got, want) {
		t.Errorf("vault entries %q, want exactly the live ones %q", got, want)
	}
}

// poisonVault fails the test on any call: List must never reach the secret store.
type poisonVault struct {
	vault
	t *testing.T
}

func (p poisonVault) set(context.Context, string, string) error {
	p.t.Error("vault.set called")
	return errInjected
}
func (p poisonVault) get(context.Context, string) (string, error) {
	p.t.Error("vault.get called")
	return "", errInjected
}
func (p poisonVault) del(context.Context, string) error {
	p.t.Error("vault.del called")
	return errInjected
}

func TestListNeverTouchesSecrets(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	s := openFile(t, dir)
	for _, n := range []string{"b", "a"} {
		if err := s.Put(ctx, sample(n, 1)); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []string{KindOS, KindFile} {
		st, err := Open(kind, Options{ConfigDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		is := st.(*indexedStore)
		is.vault = poisonVault{is.vault, t}
		list, err := st.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := credsDiff(list, []Credential{in(KindFile, sample("a", 1).withoutSecrets()), in(KindFile, sample("b", 1).withoutSecrets())}); d != "" {
			t.Errorf("%s List: %s", kind, d)
		}
	}
}

func TestWrongKeystore(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	if err := openFile(t, dir).Put(ctx, sample("app", 1)); err != nil {
		t.Fatal(err)
	}
	osStore, err := Open(KindOS, Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	is := osStore.(*indexedStore)
	is.vault = poisonVault{is.vault, t}
	want := `the secrets of "app" are in the "file" keystore, not "os": run with --keystore file`
	for op, f := range map[string]func() error{
		"Get":    func() error { _, err := osStore.Get(ctx, "app"); return err },
		"Put":    func() error { return osStore.Put(ctx, sample("app", 2)) },
		"Delete": func() error { return osStore.Delete(ctx, "app") },
	} {
		var we *WrongKeystoreError
		if err := f(); !errors.As(err, &we) || we.Error() != want {
			t.Errorf("%s: %v, want %q", op, err, want)
		}
	}
}

func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	s.lockTimeout = 50 * time.Millisecond
	var told []string
	s.onLockWait = func(path string, d time.Duration) { told = append(told, fmt.Sprint(path, " ", d)) }
	unlock, err := lockPath(ctxT(t), filepath.Join(dir, lockFile), true, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = s.List(ctxT(t))
	var te *TimeoutError
	if !errors.As(err, &te) || te.Op != "lock" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("List while another holder has the lock: %v, want a lock *TimeoutError", err)
	}
	if want := []string{filepath.Join(dir, lockFile) + " 50ms"}; !slices.Equal(told, want) {
		t.Errorf("OnLockWait calls: %q, want once: %q", told, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.lockTimeout = time.Minute
	if _, err := s.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a canceled context: %v, want context.Canceled", err)
	}
}

// TestIndexReadersSeeWholeFiles reads index.json without the lock, as fast as it can,
// while writers rewrite it: every read must parse (the rename is atomic).
func TestIndexReadersSeeWholeFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows a reader without the lock can make the rename fail; dcrctl's readers hold it")
	}
	dir := t.TempDir()
	s := openFile(t, dir)
	ctx := ctxT(t)
	if err := s.Put(ctx, sample("seed", 1)); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			data, err := os.ReadFile(filepath.Join(dir, indexFile))
			reads.Add(1)
			var idx index
			if err != nil || json.Unmarshal(data, &idx) != nil || idx.find("seed") < 0 {
				bad.Add(1)
			}
		}
	}()
	for i := range 40 {
		if err := s.Put(ctx, sample(fmt.Sprintf("n%d", i%5), i)); err != nil {
			t.Error(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d unlocked reads saw a partial or missing index", bad.Load(), reads.Load())
	}
}

// TestTwoProcesses runs two copies of this test binary that Put distinct names and rotate
// a shared one at the same time. Without the file lock, their read-modify-write cycles of
// the index would lose each other's entries.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs, rounds = 2, 15
	ctx := ctxT(t)
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "KEYSTORE_HELPER=writer", "KEYSTORE_DIR="+dir,
			"KEYSTORE_PROC="+strconv.Itoa(p), "KEYSTORE_ROUNDS="+strconv.Itoa(rounds))
		cmd.Stdout, cmd.Stderr = new(strings.Builder), new(strings.Builder)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for p, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s%s", p, err, cmd.Stdout, cmd.Stderr)
		}
	}
	s := openFile(t, dir)
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []Credential
	for p := range procs {
		for r := range rounds {
			want = append(want, in(KindFile, sample(fmt.Sprintf("p%d-%02d", p, r), r).withoutSecrets()))
		}
	}
	if len(list) != len(want)+1 || list[len(list)-1].Name != "shared" {
		t.Fatalf("List: %d credentials, want %d plus shared", len(list), len(want))
	}
	if d := credsDiff(list[:len(want)], want); d != "" {
		t.Errorf("List: %s", d)
	}
	shared, err := s.Get(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	var gen int
	fmt.Sscanf(shared.RegistrationAccessToken, "rat-shared-%d", &gen)
	if d := credDiff(shared, in(KindFile, sample("shared", gen))); d != "" {
		t.Errorf("shared: %s", d)
	}
	if got, want := entriesOf(t, s), liveEntries(t, s); !slices.Equal(got, want) {
		t.Errorf("vault entries %q, want exactly the live ones %q", got, want)
	}
}

// helpers are further helper-process roles, registered by platform-specific test files.
var helpers = map[string]func(t *testing.T){}

// TestHelperProcess is not a test: TestTwoProcesses and the fault tests run this binary
// with KEYSTORE_HELPER set to make it act as another dcrctl process.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("KEYSTORE_HELPER") {
	case "":
		t.Skip("helper process only")
	case "writer":
		s := openFile(t, os.Getenv("KEYSTORE_DIR"))
		p, _ := strconv.Atoi(os.Getenv("KEYSTORE_PROC"))
		rounds, _ := strconv.Atoi(os.Getenv("KEYSTORE_ROUNDS"))
		ctx := ctxT(t)
		for r := range rounds {
			if err := s.Put(ctx, sample(fmt.Sprintf("p%d-%02d", p, r), r)); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, sample("shared", p*1000+r)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "shared"); err != nil {
				t.Fatal(err)
			}
		}
	default:
		h := helpers[os.Getenv("KEYSTORE_HELPER")]
		if h == nil {
			t.Fatalf("unknown helper %q", os.Getenv("KEYSTORE_HELPER"))
		}
		h(t)
	}
}
