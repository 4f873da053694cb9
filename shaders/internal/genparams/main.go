// Command genparams writes the OpenCL and GLSL params headers
// (shaders/opencl/params.h, shaders/vulkan/params.glsl) from the Go params
// structs of package backend. Run through go generate ./shaders/... from
// the shaders directory.
package main

import (
	"log"
	"os"
	"path/filepath"
)

// headers maps each generated file, relative to the shaders directory, to
// the function that writes its text.
var headers = map[string]func() (string, error){
	filepath.Join("opencl", "params.h"):    openCLParamsHeader,
	filepath.Join("vulkan", "params.glsl"): glslParamsHeader,
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("genparams: ")
	for file, gen := range headers {
		text, err := gen()
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
