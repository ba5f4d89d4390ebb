package testserver

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEConfigBlockIsTheExampleFile: the README's configuration block is
// testdata/example-config.yaml byte for byte (TestExampleConfig loads and runs the file).
func TestREADMEConfigBlockIsTheExampleFile(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("testdata/example-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const heading, fence = "### Configuration reference (`--config FILE`)\n", "```yaml\n"
	_, section, ok := strings.Cut(string(readme), heading)
	if !ok {
		t.Fatalf("the README has no heading %q", heading)
	}
	_, rest, ok := strings.Cut(section, fence)
	if !ok {
		t.Fatalf("the README's section %q has no %q block", heading, fence)
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("the README's configuration block is not closed")
	}
	if block != string(file) {
		a, b := strings.Split(block, "\n"), strings.Split(string(file), "\n")
		for i := range max(len(a), len(b)) {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Fatalf("the README's configuration block and testdata/example-config.yaml differ first at line %d:\nREADME: %q\nfile:   %q", i+1, x, y)
			}
		}
	}
}
