//go:build linux

package main

import (
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
