package bpfload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/cilium/ebpf"
)

// bpffsMagic is the f_type statfs gives for a BPF file system (BPF_FS_MAGIC
// in linux/magic.h).
const bpffsMagic = 0xcafe4a11

// LoadPinned is Load with the maps of spec pinned by name in dir, a
// directory of a BPF file system: a map pinned there already is used
// rather than a new one, so that kernels loaded by several processes, or
// one after another by a process that restarts, share their state. dir ""
// is Load.
//
// The load-time constants are pinned beside the maps (as the map
// kernel+"_opts"), and a load whose constants differ from the pinned ones
// is refused, with an error naming each constant that differs: the maps
// of a kernel loaded with other options have another meaning, even where
// their sizes agree. A map pinned with another type or size is refused by
// cilium/ebpf, with an error naming the difference. The data sections
// (.rodata and the like) are not pinned: each load has its own program and
// constants.
//
// Loads into one dir may run at once, in one process or several: a load
// that finds a pin made by another after its own look for it takes that
// one up.
func LoadPinned(spec *ebpf.CollectionSpec, kernel, dir string, objs any) error {
	if dir == "" {
		return Load(spec, kernel, objs)
	}
	if err := checkPinDir(kernel, dir); err != nil {
		return err
	}
	fresh, err := claimPins(spec, kernel, dir)
	if err != nil {
		return err
	}
	spec = spec.Copy()
	var existed []bool
	for _, name := range PinnedMaps(spec) {
		spec.Maps[name].Pinning = ebpf.PinByName
		_, err := os.Lstat(filepath.Join(dir, name))
		existed = append(existed, err == nil)
	}
	opts := &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: dir}}
	for lost := 0; ; lost++ {
		err = load(spec, kernel, objs, opts)
		// A map pinned by another load between this one's look and
		// its pin: the next try takes it up. Each race lost is over
		// another map, pinned for good, so there are at most as many.
		if err == nil || !errors.Is(err, os.ErrExist) || lost == len(existed) {
			break
		}
	}
	if err == nil {
		return nil
	}
	if fresh {
		// Take back what this load pinned, so that a load with other
		// options is not refused for a kernel that never loaded.
		for i, name := range PinnedMaps(spec) {
			if !existed[i] {
				_ = os.Remove(filepath.Join(dir, name))
			}
		}
		_ = os.Remove(filepath.Join(dir, optsMapName(kernel)))
	}
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		return fmt.Errorf("%w (the maps pinned in %s are not this kernel's as loaded now; Unpin them to start afresh)", err, dir)
	}
	return err
}

// PinnedMaps returns the names of the maps of spec that LoadPinned pins:
// all but the data sections, sorted.
func PinnedMaps(spec *ebpf.CollectionSpec) []string {
	var names []string
	for name := range spec.Maps {
		if !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Unpin removes the pins LoadPinned makes in dir for spec's kernel: its
// maps and its constants. A pin that is not there is no error. The maps
// live on while a loaded kernel holds them; a later LoadPinned creates new
// ones.
func Unpin(spec *ebpf.CollectionSpec, kernel, dir string) error {
	if dir == "" {
		return fmt.Errorf("%s kernel: Unpin of an empty path", kernel)
	}
	var errs []error
	for _, name := range append(PinnedMaps(spec), optsMapName(kernel)) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s kernel: unpin: %w", kernel, err)
	}
	return nil
}

// checkPinDir checks that dir is a directory of a BPF file system, which
// the kernel requires of pins, so that the error says what to do.
func checkPinDir(kernel, dir string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("%s kernel: pin path: %w", kernel, &os.PathError{Op: "statfs", Path: dir, Err: err})
	}
	if uint32(st.Type) != bpffsMagic {
		return fmt.Errorf("%s kernel: pin path %s is not on a BPF file system (mount one there with mount -t bpf bpf DIR, or use a directory under /sys/fs/bpf)", kernel, dir)
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s kernel: pin path: %w", kernel, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("%s kernel: pin path %s is not a directory", kernel, dir)
	}
	return nil
}

func optsMapName(kernel string) string { return kernel + "_opts" }

// constVar is one load-time constant of a spec, at its place in the
// pinned constants.
type constVar struct {
	name  string
	value []byte
}

// constVars returns spec's constants, sorted by name.
func constVars(spec *ebpf.CollectionSpec) []constVar {
	var out []constVar
	for name, v := range spec.Variables {
		if v != nil && v.Constant() {
			val := v.Value
			if val == nil {
				val = make([]byte, v.Size())
			}
			out = append(out, constVar{name, val})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// claimPins pins spec's constants in dir, or, if a load pinned them
// before, compares them with spec's and refuses a difference; fresh
// reports the first case. The claim is one element of a one-entry hash
// map, created with BPF_NOEXIST, so that of two loads at once exactly one
// writes it and the other compares.
func claimPins(spec *ebpf.CollectionSpec, kernel, dir string) (fresh bool, err error) {
	vars := constVars(spec)
	var ours []byte
	for _, v := range vars {
		ours = append(ours, v.value...)
	}
	if len(ours) == 0 {
		ours = []byte{0} // a map value cannot be empty
	}
	var m *ebpf.Map
	for try := 0; ; try++ {
		m, err = ebpf.NewMapWithOptions(&ebpf.MapSpec{
			Name:       optsMapName(kernel),
			Type:       ebpf.Hash,
			KeySize:    4,
			ValueSize:  uint32(len(ours)),
			MaxEntries: 1,
			Pinning:    ebpf.PinByName,
		}, ebpf.MapOptions{PinPath: dir})
		// Pinned by another load between this one's look and its pin:
		// the next try takes it up.
		if err == nil || !errors.Is(err, os.ErrExist) || try == 1 {
			break
		}
	}
	if err != nil {
		if errors.Is(err, ebpf.ErrMapIncompatible) {
			err = fmt.Errorf("%w (pinned by another version of the kernel; Unpin to start afresh)", err)
		}
		return false, fmt.Errorf("%s kernel: pin the load-time constants in %s: %w", kernel, dir, explainPermission(err))
	}
	defer m.Close()
	key := uint32(0)
	err = m.Update(key, ours, ebpf.UpdateNoExist)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, ebpf.ErrKeyExist) {
		return false, fmt.Errorf("%s kernel: pin the load-time constants in %s: %w", kernel, dir, err)
	}
	pinned := make([]byte, len(ours))
	if err := m.Lookup(key, pinned); err != nil {
		return false, fmt.Errorf("%s kernel: read the pinned load-time constants in %s: %w", kernel, dir, err)
	}
	if bytes.Equal(pinned, ours) {
		return false, nil
	}
	return false, fmt.Errorf("%s kernel: the maps pinned in %s belong to a kernel loaded with other options (%s); load with the same options, or Unpin them first",
		kernel, dir, constDiff(vars, pinned))
}

// constDiff names the constants whose values differ between vars and
// pinned, the same constants' values as pinned.
func constDiff(vars []constVar, pinned []byte) string {
	var diffs []string
	off := 0
	for _, v := range vars {
		p := pinned[off : off+len(v.value)]
		off += len(v.value)
		if !bytes.Equal(p, v.value) {
			diffs = append(diffs, fmt.Sprintf("%s is %s there, %s here", v.name, constText(p), constText(v.value)))
		}
	}
	return strings.Join(diffs, "; ")
}

// constText prints a constant's bytes as the unsigned integer they hold in
// host order, or as hex if their size is not an integer's.
func constText(b []byte) string {
	switch len(b) {
	case 1:
		return fmt.Sprint(b[0])
	case 2:
		return fmt.Sprint(binary.NativeEndian.Uint16(b))
	case 4:
		return fmt.Sprint(binary.NativeEndian.Uint32(b))
	case 8:
		return fmt.Sprintf("%#x", binary.NativeEndian.Uint64(b))
	}
	return fmt.Sprintf("%x", b)
}
