//go:build linux

package xdp

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// probeSlots is how many maps outerSlots stores, twice the slots it
// looks up, so that a kernel answering slot i with slot 2i's map gives a
// map for each.
const probeSlots = 8

// outerSlots tells how the running kernel's array of maps gives a BPF
// program the maps stored in it, as the balancer's tables (one inner map
// a VIP, in maglev_tables) need: it stores probeSlots inner maps, slot
// i's holding the value i, and looks up slots 0 to 3 from a program. It
// returns their answers, in order (probeSlots for no map).
func outerSlots() ([4]uint32, error) {
	var got [4]uint32
	inner := &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	outer, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: probeSlots, InnerMap: inner})
	if err != nil {
		return got, err
	}
	defer outer.Close()
	for i := range uint32(probeSlots) {
		m, err := ebpf.NewMap(inner)
		if err != nil {
			return got, err
		}
		err = m.Put(uint32(0), i)
		if err == nil {
			err = outer.Put(i, m)
		}
		m.Close() // the outer map holds it
		if err != nil {
			return got, err
		}
	}
	for i := range uint32(len(got)) {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, License: "GPL", Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -4, int64(i), asm.Word),
			asm.LoadMapPtr(asm.R1, outer.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "none"),
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.StoreImm(asm.RFP, -8, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "none"),
			asm.LoadMem(asm.R0, asm.R0, 0, asm.Word),
			asm.Return(),
			asm.Mov.Imm(asm.R0, probeSlots).WithSymbol("none"),
			asm.Return(),
		}})
		if err != nil {
			return got, err
		}
		ret, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)})
		prog.Close()
		if err != nil {
			return got, err
		}
		got[i] = ret
	}
	return got, nil
}

// outerStride returns how far apart the balancer must store its tables
// in maglev_tables for a program to find table t at slot t: 1 where the
// kernel's array of maps gives a program the map stored in the slot it
// asks for, and 2 where it gives slot 2i's map for slot i. The second is
// Linux's array of maps on 32-bit kernels (seen on Debian 12's 686-pae
// 6.1): an update stores the map's pointer at index i of an array of
// pointers, 4 bytes each, while a lookup reads at i times the array's
// element size, its 4-byte value rounded up to 8. Any other answer is an
// error. A probe that cannot run is not taken for a fault: stride 1, and
// the balancer's own load says what the kernel refuses.
func outerStride() (uint32, error) {
	got, err := outerSlots()
	if err != nil {
		return 1, nil
	}
	return strideOf(got)
}

// strideOf returns the stride that the probe's answers got show (see
// outerStride), or an error naming them.
func strideOf(got [4]uint32) (uint32, error) {
	switch got {
	case [4]uint32{0, 1, 2, 3}:
		return 1, nil
	case [4]uint32{0, 2, 4, 6}:
		return 2, nil
	}
	return 0, fmt.Errorf("this kernel's array of maps gives a program the maps of other slots (slots 0 to 3 answered with the maps of %v; %d means none), so VIPs would be balanced by other VIPs' tables", got, probeSlots)
}
