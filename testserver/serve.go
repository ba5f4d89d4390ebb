package testserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// DefaultMaxConns is the number of connections Serve keeps open at once when
// Config.MaxConns is 0: well below the usual limit of 1024 open files per process.
const DefaultMaxConns = 512

// Timeouts of Serve. IdleTimeout is short on purpose: an idle keep-alive connection holds a
// file descriptor and a slot under Config.MaxConns, so a burst of idle clients must not keep
// them for long.
const (
	serveReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = 30 * time.Second
	serveWriteTimeout      = 30 * time.Second
	serveIdleTimeout       = 5 * time.Second
	serveShutdownTimeout   = 10 * time.Second
)

// Serve answers HTTP requests (HTTPS when Config.TLS is set) on ln until ctx is done, then
// shuts down gracefully: it stops accepting, lets requests in flight finish for up to ten
// seconds and closes ln. It returns nil after a shutdown caused by ctx, or the error that
// stopped the listener. It does not Close s; do that after Serve returns.
//
// The listener may be bound (and its address put in Config.Issuer) before New: connections
// that arrive before Serve wait in the listen backlog.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	limit := s.cfg.MaxConns
	if limit == 0 {
		limit = DefaultMaxConns
	}
	s.debug.listening(ln.Addr())
	lim := newConnLimiter(ln, limit)
	hs := &http.Server{
		ConnState:         lim.track,
		Handler:           s,
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         s.cfg.TLS,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			errc <- hs.ServeTLS(lim, "", "")
		} else {
			errc <- hs.Serve(lim)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("testserver: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("testserver: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}

// connLimiter caps the connections a listener hands out. At the cap, Accept closes an idle
// keep-alive connection for each newcomer (its client reconnects when it needs to), or one
// that has sent no complete request for a second (a slow or silent client), and otherwise
// holds the newcomer until a connection closes. So at most MaxConns connections are served
// (plus the one waiting), a crowd of idle or silent clients cannot keep others out, and busy
// connections are never cut.
type connLimiter struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	mu    sync.Mutex
	idle  map[net.Conn]struct{}
	fresh map[net.Conn]time.Time // connections without a request yet, and since when
}

// slowClient is how long a connection may go without a complete request before it may be
// closed to make room.
const slowClient = time.Second

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, max), done: make(chan struct{}),
		idle: map[net.Conn]struct{}{}, fresh: map[net.Conn]time.Time{}}
}

// Accept accepts a connection and returns it once it has a slot.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	select {
	case l.slots <- struct{}{}:
	default:
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			l.evict()
			select {
			case l.slots <- struct{}{}:
				break wait
			case <-l.done:
				c.Close()
				return nil, net.ErrClosed
			case <-tick.C: // a fresh connection may have become slow
			}
		}
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close closes the listener and wakes an Accept waiting for a slot.
func (l *connLimiter) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// track is the http.Server ConnState hook: it keeps the sets of idle and fresh connections.
func (l *connLimiter) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.idle, c)
	delete(l.fresh, c)
	switch st {
	case http.StateIdle:
		l.idle[c] = struct{}{}
	case http.StateNew:
		l.fresh[c] = time.Now()
	}
}

// evict closes an idle connection, or else one that has been fresh for slowClient.
func (l *connLimiter) evict() {
	l.mu.Lock()
	var victim net.Conn
	for c := range l.idle {
		victim = c
		delete(l.idle, c)
		break
	}
	if victim == nil {
		for c, since := range l.fresh {
			if time.Since(since) >= slowClient {
				victim = c
				delete(l.fresh, c)
				break
			}
		}
	}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
}

// limitedConn gives its slot back once, when it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// ParseMode returns the registration mode named s; "" is ModeClient.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return ModeClient, nil
	case ModeOpen, ModeClient, ModeUser, ModeDisabled:
		return m, nil
	}
	return "", fmt.Errorf("testserver: unknown registration mode %q: use open, client, user or disabled", s)
}

// DefaultDBPath is where a server keeps its database when none is configured:
// dcrctl/serve.db under the per-user data directory ($XDG_DATA_HOME or ~/.local/share on
// Unix, ~/Library/Application Support on macOS, %LocalAppData% on Windows). getenv reads the
// environment (os.Getenv; tests pass their own). New creates the directory, readable only by
// the user.
func DefaultDBPath(getenv func(string) string) (string, error) {
	dir, err := dataDir(getenv)
	if err != nil {
		return "", fmt.Errorf("testserver: default database path: %w", err)
	}
	return filepath.Join(dir, "dcrctl", "serve.db"), nil
}

func dataDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("%LocalAppData% is not set: configure a database file or keep the database in memory")
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support"), nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no home directory (%w): configure a database file or keep the database in memory", err)
		}
	}
	return filepath.Join(home, ".local", "share"), nil
}
