//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCommand: the ip and sysctl children run in a process group of their
// own, so a Ctrl-C at the terminal cannot kill one half way.
func TestCommand(t *testing.T) {
	c := command("ip", "netns", "list")
	if c.SysProcAttr == nil || !c.SysProcAttr.Setpgid {
		t.Fatalf("command: SysProcAttr %+v, want Setpgid", c.SysProcAttr)
	}
}

// TestTopoClose: close deletes every recorded namespace, and a recorded
// one that was never made (its "ip netns add" failed or was killed before
// making it) is no error. addNS records the name before running ip, so
// a failed add leaves the name recorded.
func TestTopoClose(t *testing.T) {
	requireNetns(t)
	top := &topo{prefix: fmt.Sprintf("l4lbt%d", os.Getpid())}
	if err := top.addNS("a"); err != nil {
		t.Fatal(err)
	}
	// A second add of the same name fails; the name stays recorded once more.
	if err := top.addNS("a"); err == nil {
		t.Errorf("second addNS of the same namespace succeeded")
	}
	top.ns = append(top.ns, top.name("never-made"))
	if err := top.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(out), top.prefix) {
		t.Errorf("namespaces left behind:\n%s", out)
	}
}

// TestCommandError: a failed command's error names the command line and
// the failure, and ends with its output if it printed any (it used to
// end in ": " when ip printed nothing).
func TestCommandError(t *testing.T) {
	fail := errors.New("exit status 1")
	argv := []string{"ip", "netns", "add", "x"}
	if err := commandError(argv, nil, []byte("noise")); err != nil {
		t.Errorf("success: %v", err)
	}
	for _, c := range []struct{ out, want string }{
		{"", "ip netns add x: exit status 1"},
		{" \n", "ip netns add x: exit status 1"},
		{"File exists\n", "ip netns add x: exit status 1: File exists"},
	} {
		err := commandError(argv, fail, []byte(c.out))
		if err == nil || err.Error() != c.want || !errors.Is(err, fail) {
			t.Errorf("output %q: %v, want %q wrapping the failure", c.out, err, c.want)
		}
	}
}
