package dataplane_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// readmeSnippet returns the Go code block of the README's "Use it from Go"
// section.
func readmeSnippet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Use it from Go")
	if i < 0 {
		t.Fatal(`README.md has no "## Use it from Go" section`)
	}
	s = s[i:]
	start := strings.Index(s, "```go\n")
	end := strings.Index(s[max(start, 0):], "\n```\n")
	if start < 0 || end < 0 {
		t.Fatal(`README.md's "Use it from Go" section has no Go code block`)
	}
	return s[start+len("```go\n") : start+end]
}

// TestReadme_UseItFromGo builds the README's first example as a program
// of a module that requires this one, the way a user would copy it, runs
// it on a capture of three flows of 5, 3 and 1 packets, and checks that it
// prints them largest first in the format its comment shows. The example
// may use these imports and no others.
func TestReadme_UseItFromGo(t *testing.T) {
	goBin, err := exec.LookPath("go") // go test puts its GOROOT/bin first on PATH
	if err != nil {
		t.Fatalf("no go command to build the README's example with: %v", err)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prog := `package main

import (
	"errors"
	"fmt"
	"log"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/cms"
	"github.com/dataplane-go/dataplane/flow"
)

func main() {
` + readmeSnippet(t) + `
}
`
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.go": prog,
		"go.mod":  "module example.com/user\n\ngo 1.25\n\nrequire github.com/dataplane-go/dataplane v0.0.0\n\nreplace github.com/dataplane-go/dataplane => " + root + "\n",
		"go.sum":  string(sum),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var pkts []capture.Packet
	for _, f := range []struct {
		src, dst string
		n        int
	}{{"10.0.0.1:1000", "10.0.0.2:80", 3}, {"10.0.0.3:2000", "10.0.0.4:443", 5}, {"[2001:db8::1]:53", "[2001:db8::2]:5353", 1}} {
		frame := pkt.UDP4(f.src, f.dst, nil)
		if strings.HasPrefix(f.src, "[") {
			frame = pkt.UDP6(f.src, f.dst, nil)
		}
		for range f.n {
			pkts = append(pkts, capture.Packet{Time: time.Unix(1, 0), Data: frame, Link: capture.LinkEthernet})
		}
	}
	if err := capture.WriteFile(filepath.Join(dir, "trace.pcap"), pkts); err != nil {
		t.Fatal(err)
	}

	build := exec.Command(goBin, "build", "-o", "example", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README's example does not build: %v\n%s\n%s", err, out, prog)
	}
	run := exec.Command(filepath.Join(dir, "example"))
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's example failed: %v\n%s", err, out)
	}
	want := []string{
		"10.0.0.3:2000 > 10.0.0.4:443 udp 5",
		"10.0.0.1:1000 > 10.0.0.2:80 udp 3",
		"[2001:db8::1]:53 > [2001:db8::2]:5353 udp 1",
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the README's example printed\n%s\nwant\n%s", out, strings.Join(want, "\n"))
	}
	// The comment's sample line has the printed form.
	line := regexp.MustCompile(`// e\.g\. (.*)`).FindStringSubmatch(readmeSnippet(t))
	if line == nil || !regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+:\d+ > \d+\.\d+\.\d+\.\d+:\d+ (tcp|udp) \d+$`).MatchString(line[1]) {
		t.Errorf("the README's sample output %q is not in the form the example prints", line)
	}
}
