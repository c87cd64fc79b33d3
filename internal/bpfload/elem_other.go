//go:build !linux

package bpfload

import "github.com/cilium/ebpf"

// lookupWord returns element key of m, an array whose keys and values are
// four bytes, through cilium/ebpf.
func lookupWord(m *ebpf.Map, key uint32) (uint32, error) {
	if err := wordMap(m, "lookup", false); err != nil {
		return 0, err
	}
	var v uint32
	err := m.Lookup(key, &v)
	return v, err
}

// updateWord sets element key of m to value (see lookupWord).
func updateWord(m *ebpf.Map, key, value uint32) error {
	if err := wordMap(m, "update", true); err != nil {
		return err
	}
	return m.Update(key, value, ebpf.UpdateAny)
}
