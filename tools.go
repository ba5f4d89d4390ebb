//go:build tools

// Package tools pins the module dependencies that the packages below import,
// until each is imported by real code. Removed once every dependency is used.
package deps

import (
	_ "github.com/godbus/dbus/v5"
	_ "github.com/google/shlex"
	_ "github.com/pkg/browser"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/cobra/doc"
	_ "github.com/zalando/go-keyring"
	_ "golang.org/x/oauth2"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)
