//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keystore

import (
	"fmt"
	"os"
	"path/filepath"
)

// runUserDir is where systemd-logind puts a user's session bus; tests point it elsewhere.
var runUserDir = func() string { return filepath.Join("/run/user", fmt.Sprint(os.Getuid())) }

// sessionBusCheck reports whether a D-Bus session bus can be found without starting one.
// godbus, under go-keyring, otherwise runs dbus-launch when neither $DBUS_SESSION_BUS_ADDRESS
// nor /run/user/UID/bus exists: that starts a new bus daemon on every call (each one leaked)
// with no Secret Service on it. So with neither, the keyring is unavailable at once.
func sessionBusCheck() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dir := runUserDir()
	if fi, err := os.Stat(filepath.Join(dir, "bus")); err == nil && !fi.IsDir() {
		// Pin the address, as godbus would, so that it never reaches its autolaunch path
		// even if the socket disappears in between.
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(dir, "bus"))
		return nil
	}
	return &UnavailableError{Reason: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and " +
		filepath.Join(dir, "bus") + " does not exist"}
}
