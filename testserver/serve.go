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
	"time"
)

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
	hs := &http.Server{
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
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
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
