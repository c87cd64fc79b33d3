package kerneltest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BPFFS mounts a BPF file system of the test's own on a fresh temporary
// directory and returns an empty directory in it, for tests of pinning
// (the root of a BPF file system may hold the kernel's own files,
// maps.debug and progs.debug); the mount goes at the test's end, and the
// pins in it with it. Without the privilege to mount (CAP_SYS_ADMIN) it
// skips as [Skip] does.
func BPFFS(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		Skip(tb, "mount a BPF file system for pins: "+err.Error())
	}
	// Registered after TempDir's removal, so it runs before it.
	tb.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			tb.Errorf("unmount the test's BPF file system: %v", err)
		}
	})
	pins := filepath.Join(dir, "pins")
	if err := os.Mkdir(pins, 0o700); err != nil {
		tb.Fatal(err)
	}
	return pins
}

// Unpinned runs a kernel package's unpin on dir and checks that it
// succeeds and leaves dir empty, that a second call, with nothing left to
// remove, succeeds too, and that the empty path is an error.
func Unpinned(tb testing.TB, dir string, unpin func(dir string) error) {
	tb.Helper()
	if err := unpin(dir); err != nil {
		tb.Fatalf("Unpin: %v", err)
	}
	if left := Pins(tb, dir); len(left) != 0 {
		tb.Errorf("pins left after Unpin: %v", left)
	}
	if err := unpin(dir); err != nil {
		tb.Fatalf("Unpin of pins not there: %v", err)
	}
	if err := unpin(""); err == nil {
		tb.Error(`Unpin(""): no error`)
	}
}

// Pins returns the names of the files in dir (the pins a test's loads
// made in its BPF file system), sorted.
func Pins(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// PinForeign pins in dir, under name, a one-entry map of type typ with
// 4-byte keys and valueSize-byte values: a map no kernel of this module
// pinned there, for tests of how a pinned load refuses one.
func PinForeign(tb testing.TB, dir, name string, typ ebpf.MapType, valueSize uint32) {
	tb.Helper()
	m, err := ebpf.NewMapWithOptions(&ebpf.MapSpec{Name: name, Type: typ, KeySize: 4, ValueSize: valueSize, MaxEntries: 1, Pinning: ebpf.PinByName},
		ebpf.MapOptions{PinPath: dir})
	if err != nil {
		tb.Fatal(err)
	}
	m.Close()
}
