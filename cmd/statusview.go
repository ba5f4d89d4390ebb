package cmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// statusView is what dcrctl status prints (-o json and yaml as it is).
type statusView struct {
	Keystore    string          `json:"keystore"`
	Chosen      string          `json:"chosen_by"`
	ConfigDir   string          `json:"config_dir"`
	Index       string          `json:"index"`
	Stores      []storeStatus   `json:"keystores"`
	Credentials int             `json:"credentials"`
	Issuers     []issuerStatus  `json:"issuers"`
	Recovery    *recoveryStatus `json:"recovery_files,omitempty"`
}

type storeStatus struct {
	Kind        string `json:"kind"`
	Secrets     string `json:"secrets"`
	Reachable   bool   `json:"reachable"`
	Problem     string `json:"problem,omitempty"`
	Credentials int    `json:"credentials"`
	err         error
}

type issuerStatus struct {
	Issuer      string `json:"issuer"`
	Credentials int    `json:"credentials"`
	Reachable   *bool  `json:"reachable,omitempty"` // nil: not asked (--offline, or no issuer)
	Problem     string `json:"problem,omitempty"`
}

type recoveryStatus struct {
	Dir   string   `json:"dir"`
	Files []string `json:"files"`
}

func (v statusView) table(w io.Writer) error {
	tw := &table{}
	tw.row("keystore", fmt.Sprintf("%s (%s)", orDash(v.Keystore), v.Chosen))
	tw.row("config dir", v.ConfigDir)
	tw.row("index", v.Index)
	for _, s := range v.Stores {
		state := "answers"
		if !s.Reachable {
			state = "does not answer: " + s.Problem
		}
		tw.row(s.Kind+" secrets", fmt.Sprintf("%s; %d credentials; %s", s.Secrets, s.Credentials, state))
	}
	tw.row("credentials", fmt.Sprint(v.Credentials))
	for _, i := range v.Issuers {
		state := ""
		switch {
		case i.Reachable != nil && *i.Reachable:
			state = "; answers"
		case i.Reachable != nil:
			state = "; does not answer: " + i.Problem
		}
		tw.row("  "+orDash(i.Issuer), fmt.Sprintf("%d%s", i.Credentials, state))
	}
	if v.Recovery != nil {
		tw.row("recovery files", fmt.Sprintf("%d in %s: dcrctl import FILE --remove-file", len(v.Recovery.Files), v.Recovery.Dir))
	}
	_, err := io.WriteString(w, tw.String())
	return err
}

// recoveryFiles lists the recovery files waiting in dir; nil when there are none.
func recoveryFiles(dir string) *recoveryStatus {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	r := &recoveryStatus{Dir: dir}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			r.Files = append(r.Files, filepath.Join(dir, e.Name()))
		}
	}
	if len(r.Files) == 0 {
		return nil
	}
	return r
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
