package cmd

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	build := BuildInfo{Version: "1.2.3", Commit: "abc1234", Date: "2026-11-26T00:00:00Z"}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	cases := []struct {
		name  string
		build BuildInfo
		args  []string
		want  string
	}{
		{
			name:  "release build, text",
			build: build,
			args:  []string{"version"},
			want:  "dcrctl 1.2.3 (commit abc1234, built 2026-11-26T00:00:00Z) " + runtime.Version() + " " + platform + "\n",
		},
		{
			name:  "yaml",
			build: build,
			args:  []string{"version", "-o", "yaml"},
			want: "commit: abc1234\ndate: \"2026-11-26T00:00:00Z\"\ngo_version: " + runtime.Version() + "\nplatform: " + platform +
				"\nversion: 1.2.3\n",
		},
		{
			name:  "env",
			build: build,
			args:  []string{"version", "-o", "env"},
			want: "DCR_VERSION='1.2.3'\nDCR_COMMIT='abc1234'\nDCR_BUILD_DATE='2026-11-26T00:00:00Z'\nDCR_GO_VERSION='" + runtime.Version() +
				"'\nDCR_PLATFORM='" + platform + "'\n",
		},
		{
			name: "development build, text",
			args: []string{"version"},
			want: "dcrctl  " + runtime.Version() + " " + platform + "\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := TestStreams()
			if code := Run(context.Background(), ios, tc.build, tc.args); code != ExitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if out.String() != tc.want {
				t.Errorf("stdout\n got %q\nwant %q", out, tc.want)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		ios, _, out, errOut := TestStreams()
		if code := Run(context.Background(), ios, build, []string{"version", "-o", "json"}); code != ExitOK {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		var got map[string]string
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		want := map[string]string{
			"version": "1.2.3", "commit": "abc1234", "date": "2026-11-26T00:00:00Z",
			"go_version": runtime.Version(), "platform": platform,
		}
		if len(got) != len(want) {
			t.Errorf("got %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q (whole: %v)", k, got[k], v, got)
			}
		}
	})
}

func TestBuildSettings(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.time", Value: "2026-11-01T10:00:00Z"}}
	cases := []struct {
		name  string
		build BuildInfo
		info  *debug.BuildInfo
		want  BuildInfo
	}{
		{
			name:  "release build: -ldflags win",
			build: BuildInfo{Version: "1.2.3", Commit: "abc", Date: "2026-11-26"},
			info:  &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs},
			want:  BuildInfo{Version: "1.2.3", Commit: "abc", Date: "2026-11-26"},
		},
		{
			name:  "go install module@v1.4.0",
			build: BuildInfo{Version: "dev"},
			info:  &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			want:  BuildInfo{Version: "v1.4.0"},
		},
		{
			name:  "go build in a checkout: devel version, VCS stamp",
			build: BuildInfo{Version: "dev"},
			info:  &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			want:  BuildInfo{Version: "dev", Commit: "0123abc", Date: "2026-11-01T10:00:00Z"},
		},
		{
			name:  "no build information",
			build: BuildInfo{},
			info:  nil,
			want:  BuildInfo{},
		},
		{
			name:  "empty version becomes dev",
			build: BuildInfo{},
			info:  &debug.BuildInfo{},
			want:  BuildInfo{Version: "dev"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.build.withBuildSettings(tc.info); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
