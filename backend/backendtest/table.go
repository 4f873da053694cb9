package backendtest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/crossgrad/crossgrad/backend"
)

// CheckKernelTable reports an error naming the kernels of backend.Kernels()
// that a backend's dispatch table has no entry for, and the entries for no
// such kernel. Every backend's tests call it on its launcher table.
func CheckKernelTable[V any](table map[backend.Kernel]V) error {
	var missing, unknown []string
	for _, k := range backend.Kernels() {
		if _, ok := table[k]; !ok {
			missing = append(missing, string(k))
		}
	}
	for k := range table {
		if backend.ParamsFor(k) == nil {
			unknown = append(unknown, string(k))
		}
	}
	sort.Strings(unknown)
	var msg []string
	if len(missing) > 0 {
		msg = append(msg, "no entry for "+strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		msg = append(msg, "entries for unknown kernels "+strings.Join(unknown, ", "))
	}
	if len(msg) > 0 {
		return fmt.Errorf("kernel table: %s", strings.Join(msg, "; "))
	}
	return nil
}
