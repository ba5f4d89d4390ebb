// Command dcrctl registers OAuth 2.0 clients dynamically (RFC 7591), manages them (RFC 7592)
// and runs a local authorization server for testing (dcrctl serve).
package main

import (
	"os"

	"github.com/dcrctl/dcrctl/cmd"
)

// Set by the release build with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(cmd.Main(cmd.BuildInfo{Version: version, Commit: commit, Date: date}))
}
