package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/spf13/cobra"
)

func newDevicesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List every OpenCL and Vulkan device found, and why any backend is unavailable",
		Long: "devices lists every device of every backend with its properties, says below the table why a backend\n" +
			"is unavailable, and names the device --device auto selects. --json prints the same as one JSON object.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			found := backend.Enumerate()
			auto, autoErr := autoDevice()
			if asJSON {
				return writeDevicesJSON(cmd.OutOrStdout(), found, auto, autoErr)
			}
			printDevices(cmd.OutOrStdout(), found, auto, autoErr)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every backend with its devices, errors and the auto selection as JSON")
	return cmd
}

// autoDevice is the device "auto" selects first.
func autoDevice() (backend.Info, error) {
	cands, err := backend.Select("auto")
	if err != nil {
		return backend.Info{}, err
	}
	return cands[0], nil
}

// printDevices writes the device table of found, then why each unavailable
// backend is, then what auto selects (auto, or autoErr when nothing).
func printDevices(w io.Writer, found []backend.Found, auto backend.Info, autoErr error) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tVENDOR\tNAME\tDRIVER\tMEMORY\tMAX ALLOC\tCUs\tMAX WG\tLOCAL MEM")
	var reasons []string
	for _, f := range found {
		if f.Err != nil {
			fmt.Fprintf(tw, "%s\tunavailable\t-\t(reason below)\t\t\t\t\t\t\n", f.Backend)
			reasons = append(reasons, fmt.Sprintf("%s is unavailable: %v", f.Backend, f.Err))
			continue
		}
		if len(f.Devices) == 0 {
			fmt.Fprintf(tw, "%s\tnone\t-\tno devices reported by the driver\t\t\t\t\t\t\n", f.Backend)
		}
		for _, d := range f.Devices {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d MiB\t%d MiB\t%d\t%d\t%d KiB\n",
				d.ID(), d.Type, d.Vendor, d.Name, d.DriverVersion, d.GlobalMemory>>20, d.MaxAlloc>>20,
				d.ComputeUnits, d.MaxWorkGroupSize, d.LocalMemory>>10)
		}
	}
	tw.Flush()
	if len(reasons) > 0 {
		fmt.Fprintln(w)
		for _, r := range reasons {
			fmt.Fprintln(w, r)
		}
	}
	if autoErr == nil {
		fmt.Fprintf(w, "\nauto selects %s (%s)\n", auto.ID(), auto.Name)
	} else {
		fmt.Fprintf(w, "\nauto selects nothing: %v\n", autoErr)
	}
}

// devicesJSON is what devices --json prints.
type devicesJSON struct {
	Backends []backendJSON `json:"backends"`
	// Auto is the ID of the device --device auto selects; AutoError says
	// why there is none.
	Auto      string `json:"auto,omitempty"`
	AutoError string `json:"auto_error,omitempty"`
}

// backendJSON is one backend: its devices, or the reason it has none.
type backendJSON struct {
	Name    string       `json:"name"`
	Error   string       `json:"error,omitempty"`
	Devices []deviceJSON `json:"devices"`
}

// deviceJSON is one device's backend.Info; Type is as the table prints it
// ("discrete-gpu", "integrated-gpu", "cpu", "reference", "other").
type deviceJSON struct {
	ID               string `json:"id"`
	Backend          string `json:"backend"`
	Index            int    `json:"index"`
	Type             string `json:"type"`
	Vendor           string `json:"vendor"`
	VendorID         uint32 `json:"vendor_id"`
	Name             string `json:"name"`
	Driver           string `json:"driver"`
	GlobalMemory     uint64 `json:"global_memory_bytes"`
	MaxAlloc         uint64 `json:"max_alloc_bytes"`
	ComputeUnits     int    `json:"compute_units"`
	MaxWorkGroupSize int    `json:"max_work_group_size"`
	LocalMemory      uint64 `json:"local_memory_bytes"`
}

// writeDevicesJSON writes found and the auto selection as an indented
// devicesJSON object.
func writeDevicesJSON(w io.Writer, found []backend.Found, auto backend.Info, autoErr error) error {
	j := devicesJSON{Backends: []backendJSON{}}
	if autoErr != nil {
		j.AutoError = autoErr.Error()
	} else {
		j.Auto = auto.ID()
	}
	for _, f := range found {
		b := backendJSON{Name: f.Backend, Devices: []deviceJSON{}}
		if f.Err != nil {
			b.Error = f.Err.Error()
		}
		for _, d := range f.Devices {
			b.Devices = append(b.Devices, deviceJSON{ID: d.ID(), Backend: d.Backend, Index: d.Index, Type: d.Type.String(),
				Vendor: d.Vendor, VendorID: d.VendorID, Name: d.Name, Driver: d.DriverVersion, GlobalMemory: d.GlobalMemory,
				MaxAlloc: d.MaxAlloc, ComputeUnits: d.ComputeUnits, MaxWorkGroupSize: d.MaxWorkGroupSize, LocalMemory: d.LocalMemory})
		}
		j.Backends = append(j.Backends, b)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
