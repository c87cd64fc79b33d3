//go:build linux

package xdp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/iblt"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// pinFrames splits the fixtures in two: the frames of two epochs.
func pinFrames(t *testing.T) (a, b [][]byte) {
	t.Helper()
	for i, fx := range fixtures(t) {
		if i%2 == 0 {
			a = append(a, fx.frame)
		} else {
			b = append(b, fx.frame)
		}
	}
	return a, b
}

// tableOK reads the table of the epoch k writes.
func tableOK(t *testing.T, k *Kernel) *iblt.Table {
	t.Helper()
	tb, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// readOK reads the table of epoch e.
func readOK(t *testing.T, k *Kernel, e int) *iblt.Table {
	t.Helper()
	tb, err := k.Read(e)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// packetsOK returns the packets k's statistics count.
func packetsOK(t *testing.T, k *Kernel) uint64 {
	t.Helper()
	s, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s.Packets()
}

// Kernels loaded with one PinPath share the digests, the epoch and the
// statistics, per CPU and shared: packets run through one are in the
// other's Table and Stats, a Flip through one is the other's (its Epoch,
// its Read of the ended epoch, its Table of the new one), and a Load after
// both closed (a restarted process) finds both epochs' digests, the epoch
// and the statistics as they were, and flips on from there. A load with
// other options is refused, naming the constants that differ, until
// Unpin; after it a load starts empty, on epoch 0.
func TestKernel_Pin(t *testing.T) {
	a, b := pinFrames(t)
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			kerneltest.Require(t)
			dir := kerneltest.BPFFS(t)
			opts := Options{Cells: 60, Hashes: 3, Seed: 0x919, Shared: shared, PinPath: dir}
			wantA, wantB := digestOK(t, opts, a), digestOK(t, opts, b)
			if wantA.IsEmpty() || wantB.IsEmpty() || wantA.Equal(wantB) {
				t.Fatal("the digests of A and B must differ and be non-empty")
			}

			k1 := loadKernel(t, opts)
			k2 := loadKernel(t, opts)
			for _, f := range a {
				kerneltest.Run(t, k1.Program(), f)
			}
			if !tableOK(t, k2).Equal(wantA) {
				t.Fatal("packets run through one kernel are not in the other's Table")
			}
			if n := packetsOK(t, k2); n != uint64(len(a)) {
				t.Fatalf("the second kernel's Stats count %d packets, want the first's %d", n, len(a))
			}

			if !flipOK(t, k2).Equal(wantA) {
				t.Fatal("Flip through the second kernel: not the digest of the packets run through the first")
			}
			if e := epochOK(t, k1); e != 1 {
				t.Fatalf("after a Flip through the other kernel, Epoch is %d, want 1", e)
			}
			if !readOK(t, k1, 0).Equal(wantA) {
				t.Fatal("Read of the epoch the other kernel ended: not its digest")
			}
			if !tableOK(t, k1).IsEmpty() {
				t.Fatal("Table after a Flip through the other kernel: not the new, empty epoch")
			}
			for _, f := range b {
				kerneltest.Run(t, k1.Program(), f)
			}
			if !readOK(t, k2, 1).Equal(wantB) {
				t.Fatal("packets run through the first kernel after the Flip are not in the second's epoch 1")
			}
			for _, k := range []*Kernel{k1, k2} {
				if err := k.Close(); err != nil {
					t.Fatal(err)
				}
			}

			k3 := loadKernel(t, opts)
			if e := epochOK(t, k3); e != 1 {
				t.Fatalf("a load after both closed writes epoch %d, want the pinned 1", e)
			}
			if !readOK(t, k3, 0).Equal(wantA) || !tableOK(t, k3).Equal(wantB) {
				t.Fatal("a load after both closed lost the pinned digests")
			}
			if n := packetsOK(t, k3); n != uint64(len(a)+len(b)) {
				t.Fatalf("a load after both closed counts %d packets, want the pinned %d", n, len(a)+len(b))
			}
			if !flipOK(t, k3).Equal(wantB) || epochOK(t, k3) != 0 {
				t.Fatal("a load after both closed does not flip on from the pinned epoch")
			}

			for _, tc := range []struct {
				name  string
				other func(*Options)
			}{
				{"iblt_seed", func(o *Options) { o.Seed++ }},
				{"iblt_sub", func(o *Options) { o.Cells += o.Hashes }},
				{"iblt_k", func(o *Options) { o.Hashes, o.Cells = 4, 60 }},
				{"iblt_shared", func(o *Options) { o.Shared = !o.Shared }},
			} {
				other := opts
				tc.other(&other)
				k, err := Load(other)
				if err == nil {
					k.Close()
				}
				if err == nil || !strings.Contains(err.Error(), tc.name+" is") {
					t.Errorf("Load with another %s on the same PinPath: %v; want a refusal naming %s", tc.name, err, tc.name)
				}
				t.Log(err)
			}

			kerneltest.Unpinned(t, dir, Unpin)
			if !readOK(t, k3, 1).Equal(wantB) {
				t.Fatal("Unpin took the digest from a loaded kernel")
			}
			other := opts
			other.Seed++
			k4 := loadKernel(t, other)
			if e := epochOK(t, k4); e != 0 || !readOK(t, k4, 0).IsEmpty() || !readOK(t, k4, 1).IsEmpty() || packetsOK(t, k4) != 0 {
				t.Fatalf("a load after Unpin is not empty on epoch 0 (epoch %d)", e)
			}
			kerneltest.Unpinned(t, dir, Unpin)
		})
	}
}

// Reset and Clear through one kernel of a PinPath empty the other's
// digests and statistics.
func TestKernel_PinReset(t *testing.T) {
	kerneltest.Require(t)
	dir := kerneltest.BPFFS(t)
	a, _ := pinFrames(t)
	opts := Options{Cells: 60, Hashes: 3, Seed: 0x919, Shared: true, PinPath: dir}
	k1 := loadKernel(t, opts)
	k2 := loadKernel(t, opts)
	for _, f := range a {
		kerneltest.Run(t, k1.Program(), f)
	}
	if err := k2.Clear(0); err != nil {
		t.Fatal(err)
	}
	if !tableOK(t, k1).IsEmpty() || packetsOK(t, k1) != uint64(len(a)) {
		t.Fatal("Clear through one kernel: the other's digest is not empty, or its Stats changed")
	}
	for _, f := range a {
		kerneltest.Run(t, k1.Program(), f)
	}
	if err := k2.Reset(); err != nil {
		t.Fatal(err)
	}
	if !tableOK(t, k1).IsEmpty() || packetsOK(t, k1) != 0 {
		t.Fatal("Reset through one kernel: the other's digest or Stats not empty")
	}
	kerneltest.Unpinned(t, dir, Unpin)
}

// A PinPath that is not a directory of a BPF file system is an error
// saying so, and a pinned Load that fails takes back the pins it made.
func TestKernel_PinPathErrors(t *testing.T) {
	kerneltest.Require(t)
	opts := Options{Cells: 60, Hashes: 3}
	notBPF := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{notBPF, "not on a BPF file system"},
		{filepath.Join(notBPF, "missing"), "no such file"},
	} {
		o := opts
		o.PinPath = tc.path
		if k, err := Load(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			k.Close()
			t.Errorf("Load with PinPath %s: %v; want an error saying %q", tc.path, err, tc.want)
		}
	}
	dir := kerneltest.BPFFS(t)
	o := opts
	o.PinPath = filepath.Join(dir, "missing")
	if k, err := Load(o); err == nil {
		k.Close()
		t.Error("Load with a PinPath that does not exist: no error")
	}
	// A map of another shape pinned as the epoch: the load fails, and
	// takes back the pins it made, leaving that one alone.
	kerneltest.PinForeign(t, dir, ibltMapIbltEpoch, ebpf.Array, 8)
	o.PinPath = dir
	if k, err := Load(o); err == nil || !strings.Contains(err.Error(), "Unpin") {
		k.Close()
		t.Errorf("Load over a pinned map of another shape: %v; want an error saying to Unpin", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 || ents[0].Name() != ibltMapIbltEpoch {
		t.Errorf("pins after a failed Load: %v (err %v), want only the foreign %s", ents, err, ibltMapIbltEpoch)
	}
	kerneltest.Unpinned(t, dir, Unpin)
}
