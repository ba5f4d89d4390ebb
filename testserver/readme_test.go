package testserver

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// profileTable is the README's table of profiles: a row per switch, a column per profile,
// then the public source of every value that differs from strict.
func profileTable() string {
	ps := Profiles()
	var b strings.Builder
	b.WriteString("| switch (`behaviour:` key) |")
	for _, p := range ps {
		fmt.Fprintf(&b, " `%s` |", p.Name)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(ps)) + "\n")
	for _, n := range SwitchNames() {
		fmt.Fprintf(&b, "| `%s` |", n)
		for _, p := range ps {
			v, _ := p.Behaviour.Get(n)
			fmt.Fprintf(&b, " %s |", cell(v))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nSources (each value that differs from `strict`):\n\n")
	for _, p := range ps[1:] {
		fmt.Fprintf(&b, "- **%s** — %s.\n", p.Name, p.Description)
		var keys []string
		for k := range p.Sources {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, c string) int { return slices.Index(SwitchNames(), a) - slices.Index(SwitchNames(), c) })
		for _, k := range keys {
			fmt.Fprintf(&b, "  - `%s`: %s\n", k, p.Sources[k])
		}
	}
	return b.String()
}

func cell(v any) string {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		if rv.Bool() {
			return "yes"
		}
		return "no"
	case reflect.Slice:
		if rv.Len() == 0 {
			return "—"
		}
		var s []string
		for i := range rv.Len() {
			s = append(s, fmt.Sprint(rv.Index(i).Interface()))
		}
		return strings.Join(s, ", ")
	case reflect.Map:
		if rv.Len() == 0 {
			return "—"
		}
		var s []string
		for _, k := range rv.MapKeys() {
			s = append(s, k.String())
		}
		slices.Sort(s)
		return strings.Join(s, ", ")
	}
	if s := fmt.Sprint(v); s != "" {
		return "`" + s + "`"
	}
	return "—"
}

// TestREADMEProfileTable: the README's profile table is the one the definitions give.
func TestREADMEProfileTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(b), "<!-- profiles:begin -->\n")
	table, _, ok2 := strings.Cut(rest, "<!-- profiles:end -->")
	if want := profileTable(); !ok1 || !ok2 || table != want {
		t.Errorf("README.md between <!-- profiles:begin --> and <!-- profiles:end --> is not the profile table; put this there:\n%s", want)
	}
}
