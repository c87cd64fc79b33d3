//go:build linux

package xdp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// Kernels loaded with one PinPath share the filter and the counters: a
// filter written through one is the other's, a packet run through one is
// counted in the other's Stats (and ResetStats through one zeroes them
// for both), and a Load after both closed (a restarted
// process) finds the learnt filter as it was. A load with other options is
// refused, naming the constant that differs, until Unpin; after it a load
// starts empty.
func TestKernel_Pin(t *testing.T) {
	kerneltest.Require(t)
	dir := kerneltest.BPFFS(t)
	opts := Options{Params: params(Classic, 1000, 0.01), Learn: true, PinPath: dir}

	a := loadKernel(t, opts)
	b := loadKernel(t, opts)
	if v, _ := kerneltest.Run(t, a.Program(), udpA); v != 2 { // XDP_PASS
		t.Fatalf("learn mode verdict %d, want XDP_PASS", v)
	}
	want := bloom.MustNew(opts.Params)
	want.Add(keyOf(t, udpA, KeyFlow))
	got, err := b.Filter()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Fatal("the second kernel's filter is not the learnt one")
	}
	if s, err := b.Stats(); err != nil || s.Passed != 1 {
		t.Fatalf("second kernel's Stats = %+v, %v; want the first's packet passed", s, err)
	}
	if err := a.ResetStats(); err != nil {
		t.Fatal(err)
	}
	if s, err := b.Stats(); err != nil || s != (Stats{}) {
		t.Fatalf("second kernel's Stats after the first's ResetStats = %+v, %v; want zero", s, err)
	}
	want.Add(keyOf(t, tcpB, KeyFlow))
	if err := b.WriteFilter(want); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Filter(); err != nil || !got.Equal(want) {
		t.Fatalf("a filter written through one kernel is not the other's (err %v)", err)
	}
	for _, k := range []*Kernel{a, b} {
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
	}

	c := loadKernel(t, opts)
	if got, err := c.Filter(); err != nil || !got.Equal(want) {
		t.Fatalf("a load after both closed lost the pinned filter (err %v)", err)
	}

	other := opts
	other.Params.Seed++
	_, err = Load(other)
	if err == nil || !strings.Contains(err.Error(), "bloom_cfg_seed is") {
		t.Fatalf("Load with another seed on the same PinPath: %v; want a refusal naming bloom_cfg_seed", err)
	}
	t.Log(err)

	kerneltest.Unpinned(t, dir, Unpin)
	if got, err := c.Filter(); err != nil || !got.Equal(want) {
		t.Fatalf("Unpin took the filter from a loaded kernel (err %v)", err)
	}
	d := loadKernel(t, other)
	if got, err := d.Filter(); err != nil || got.SetBits() != 0 {
		t.Fatalf("a load after Unpin is not empty (err %v)", err)
	}
	kerneltest.Unpinned(t, dir, Unpin)
}

// A PinPath that is not a directory of a BPF file system is an error
// saying so, and a failed pinned Load leaves no pins behind.
func TestKernel_PinPathErrors(t *testing.T) {
	kerneltest.Require(t)
	p := params(Classic, 1000, 0.01)
	notBPF := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{notBPF, "not on a BPF file system"},
		{filepath.Join(notBPF, "missing"), "no such file"},
	} {
		if _, err := Load(Options{Params: p, PinPath: tc.path}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load with PinPath %s: %v; want an error saying %q", tc.path, err, tc.want)
		}
	}
	dir := kerneltest.BPFFS(t)
	if _, err := Load(Options{Params: p, PinPath: filepath.Join(dir, "missing")}); err == nil {
		t.Error("Load with a PinPath that does not exist: no error")
	}
	// A map of another shape pinned as the filter: the load fails, saying
	// to Unpin, and takes back the pins it made, leaving that one alone.
	kerneltest.PinForeign(t, dir, bloomMapBloomWords, ebpf.Array, 8)
	if _, err := Load(Options{Params: p, PinPath: dir}); err == nil || !strings.Contains(err.Error(), "Unpin") {
		t.Errorf("Load over a pinned map of another shape: %v; want an error saying to Unpin", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 || ents[0].Name() != bloomMapBloomWords {
		t.Errorf("pins after a failed Load: %v (err %v), want only the foreign %s", ents, err, bloomMapBloomWords)
	}
	// Constants pinned by a kernel whose constants are others (another
	// version's): the load fails, saying so.
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	kerneltest.PinForeign(t, other, "bloom_opts", ebpf.Hash, 3)
	if _, err := Load(Options{Params: p, PinPath: other}); err == nil || !strings.Contains(err.Error(), "another version") {
		t.Errorf("Load over another version's constants: %v; want an error saying so", err)
	}
}

// Loads into one empty PinPath at once all succeed and share one filter:
// a load that loses the race to pin a map takes up the winner's.
func TestKernel_PinConcurrentLoads(t *testing.T) {
	kerneltest.Require(t)
	root := kerneltest.BPFFS(t)
	p := params(Blocked, 1000, 0.01)
	const loads = 6
	for round := range 20 {
		dir := filepath.Join(root, fmt.Sprint(round))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		opts := Options{Params: p, Layout: Blocked, PinPath: dir}
		ks := make([]*Kernel, loads)
		errs := make([]error, loads)
		var wg sync.WaitGroup
		for i := range ks {
			wg.Go(func() { ks[i], errs[i] = Load(opts) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, load %d of %d at once: %v", round, i, loads, err)
			}
			defer ks[i].Close()
		}
		want := bloom.MustNewBlocked(p)
		want.Add([]byte{byte(round)})
		if err := ks[0].WriteBlocked(want); err != nil {
			t.Fatal(err)
		}
		for i, k := range ks {
			if got, err := k.Blocked(); err != nil || !got.Equal(want) {
				t.Fatalf("round %d: load %d does not share the first's filter (err %v)", round, i, err)
			}
		}
	}
}
