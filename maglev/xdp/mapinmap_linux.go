//go:build linux

package xdp

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// outerSlots checks that the running kernel's array of maps gives a BPF
// program the map stored in the slot it asks for, as the balancer's
// tables (one inner map a VIP, in maglev_tables) need: it stores four
// inner maps, slot i's holding the value i, and looks each slot up from a
// program. It returns the slots' answers, in order (4 for no map).
func outerSlots() ([4]uint32, error) {
	var got [4]uint32
	inner := &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	outer, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, InnerMap: inner})
	if err != nil {
		return got, err
	}
	defer outer.Close()
	for i := range uint32(4) {
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
	for i := range uint32(4) {
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
			asm.Mov.Imm(asm.R0, 4).WithSymbol("none"),
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

// checkOuterSlots returns an error if the kernel's array of maps gives a
// program another slot's map than the one it asks for. A probe that
// cannot run (the kernel having just loaded the balancer, which needs
// more than the probe) is not taken for a fault: it returns nil.
func checkOuterSlots() error {
	got, err := outerSlots()
	if err != nil {
		return nil
	}
	for i, v := range got {
		if v != uint32(i) {
			return fmt.Errorf("this kernel's array of maps gives a program the map of another slot (slots 0 to 3 answered with the maps of %v; 4 means none), so VIPs would be balanced by other VIPs' tables; seen on 32-bit kernels", got)
		}
	}
	return nil
}
