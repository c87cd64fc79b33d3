//go:build linux

package bpfload_test

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestMmap: the mapping holds every element padded to 8 bytes, rounded up
// to a page, and is shared with the kernel both ways; a map that is not a
// memory-mappable array is refused; the mapping keeps the map alive after
// Close until Munmap, and Munmap of nil is nothing to do.
func TestMmap(t *testing.T) {
	kerneltest.Require(t)
	page := os.Getpagesize()
	// 4-byte values padded to 8: one element more than a page holds.
	entries := uint32(page/8 + 1)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: entries, Flags: unix.BPF_F_MMAPABLE})
	if err != nil {
		t.Fatal(err)
	}
	id := kerneltest.MapID(t, m)
	b, err := bpfload.Mmap(m)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	if len(b) != 2*page {
		t.Errorf("mapping of %d bytes, want %d (two pages)", len(b), 2*page)
	}
	last := entries - 1
	if len(b) >= int(8*last+4) {
		binary.NativeEndian.PutUint32(b[8*last:], 0xdeadbeef)
		var v uint32
		if err := m.Lookup(last, &v); err != nil || v != 0xdeadbeef {
			t.Errorf("element %d written through the mapping: the kernel reads %#x (%v)", last, v, err)
		}
	}
	if err := m.Update(uint32(1), uint32(77), ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v := binary.NativeEndian.Uint32(b[8:]); v != 77 {
		t.Errorf("element 1 written by the kernel: the mapping reads %d", v)
	}
	m.Close()
	if kerneltest.MapFreed(t, id, 0) {
		t.Error("map freed while mapped")
	}
	if err := bpfload.Munmap(b); err != nil {
		t.Fatal(err)
	}
	if !kerneltest.MapFreed(t, id, 5*time.Second) {
		t.Error("map still there after Close and Munmap")
	}
	if err := bpfload.Munmap(nil); err != nil {
		t.Errorf("Munmap(nil): %v", err)
	}
	if b, err := bpfload.Mmap(nil); err == nil || !strings.Contains(err.Error(), "no map (nil)") {
		bpfload.Munmap(b)
		t.Errorf("Mmap(nil): %v, want an error saying there is no map", err)
	}

	for name, spec := range map[string]*ebpf.MapSpec{
		"array without BPF_F_MMAPABLE": {Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 4},
		"hash":                         {Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4},
	} {
		m, err := ebpf.NewMap(spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bpfload.Mmap(m)
		if err == nil {
			bpfload.Munmap(b)
			t.Errorf("%s: mapped", name)
		} else if !strings.Contains(err.Error(), "is not a memory-mappable array") {
			t.Errorf("%s: %v, want an error saying it is not a memory-mappable array", name, err)
		}
		m.Close()
	}
}
