package flowstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	page := `<html><body><h1>Sign in</h1>
<form method="post" action="/login?x=1&amp;y=2" id="login">
<input type="hidden" name="state" value="a&amp;b">
<input type='hidden' name='nonce' value='n'>
<input type="text" id="username" name="username" autocomplete="username">
<input type="password" name="password">
<input type="checkbox" name="remember" checked>
<input type="checkbox" name="spam">
<button type="submit" name="action" value="approve"><b>Approve</b></button>
<button type="submit" name="action" value="deny">Deny</button>
<button type="button" name="x" value="y">Not a submit</button>
</form><form action="/other"></form></body></html>`
	f, ok := parseForm(page)
	if !ok {
		t.Fatal("no form found")
	}
	got := fmt.Sprintf("%s %s %s pw=%s text=%v buttons=%v", f.method, f.action, f.fields.Encode(), f.password, f.text, f.buttons)
	want := "POST /login?x=1&y=2 nonce=n&remember=on&state=a%26b&username= pw=password text=[username] buttons=[{action approve Approve} {action deny Deny}]"
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
	if _, ok := parseForm("<p>no form</p>"); ok {
		t.Error("found a form in a page without one")
	}
}

// TestBrowserFillsAndSubmits checks the request a Browser builds from a login page and which
// button it presses.
func TestBrowserFillsAndSubmits(t *testing.T) {
	var posted []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			posted = append(posted, r.PostForm)
			http.Redirect(w, r, "/done", http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/done" {
			fmt.Fprint(w, "<p>done</p>")
			return
		}
		fmt.Fprint(w, `<form method="post" action="/submit"><input type="hidden" name="csrf" value="c">
<input name="login"><input type="password" name="password">
<button name="action" value="approve">Approve</button><button name="action" value="deny">Deny</button></form>`)
	}))
	defer srv.Close()
	b := New("alice", "pw")
	b.Button = "Deny"
	if err := b.Open(srv.URL + "/start"); err != nil {
		t.Fatal(err)
	}
	v := b.Last()
	got := fmt.Sprintf("forms=%d logins=%d status=%d final=%s posted=%v", v.Forms, v.LoginPages, v.Status, strings.TrimPrefix(v.FinalURL, srv.URL), posted)
	want := "forms=1 logins=1 status=200 final=/done posted=[map[action:[deny] csrf:[c] login:[alice] password:[pw]]]"
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
	if b.LoginPages() != 1 || len(b.Visits()) != 1 || b.Client().Jar == nil {
		t.Errorf("LoginPages %d, Visits %d", b.LoginPages(), len(b.Visits()))
	}
}

// TestUserCodeAndSubmitted: an empty user_code field gets UserCode, and the Visit lists the
// forms submitted.
func TestUserCodeAndSubmitted(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/device":
			fmt.Fprint(w, `<form method="post" action="/device/code"><input type="hidden" name="xsrf" value="x"><input type="text" name="user_code"></form>`)
		case "/device/code":
			r.ParseForm()
			got = r.PostForm
			fmt.Fprint(w, `<p>done</p>`)
		}
	}))
	defer srv.Close()
	b := New("u", "p")
	b.UserCode = "ABCD-EFGH"
	v, err := b.OpenContext(t.Context(), srv.URL+"/device")
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("user_code") != "ABCD-EFGH" || got.Get("xsrf") != "x" {
		t.Errorf("posted %v", got)
	}
	if fmt.Sprint(v.Submitted) != "[/device/code]" {
		t.Errorf("Submitted = %v", v.Submitted)
	}
}

// TestBuffer: concurrent writes and reads of a Buffer (run with -race).
func TestBuffer(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			b.Write([]byte("x"))
		}
	}()
	for range 100 {
		_ = b.String()
	}
	<-done
	if b.String() != strings.Repeat("x", 100) {
		t.Errorf("got %q", b.String())
	}
	b.Reset()
	if b.String() != "" {
		t.Error("Reset left data")
	}
}
