//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keystore

// sessionBusCheck is nil where go-keyring does not use D-Bus (macOS, Windows).
var sessionBusCheck func() error
