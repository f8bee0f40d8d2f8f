// Command argo-validate checks Argo Workflows and Argo Events manifests
// offline with Argo's own code, so `clusterforge argo lint` reports what a
// real controller would reject before anything reaches a cluster.
//
// Why a program of our own instead of `argo lint`: the argo CLI embeds the
// UI's generated dist/app, which the published module lacks, and its lint
// needs an Argo Server or a cluster. This program links only the pieces that
// matter: the typed API (decoded strictly, so an unknown field such as a
// typo is an error) and workflow/validate, with a template getter over the
// files given, so templateRef between them resolves as it would in a
// namespace. Sensors and EventSources are decoded strictly into Argo Events'
// own Go types (the version argo-workflows itself depends on).
//
// Output: one JSON object on stdout, {"checked": N, "problems": [...]}, each
// problem with the file, the 1-based line, kind, name and Argo's message.
// Exit status 0 when there are no problems, 1 when there are, 2 on misuse.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	eventsv1 "github.com/argoproj/argo-events/pkg/apis/events/v1alpha1"
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/workflow/validate"
	"gopkg.in/yaml.v3"
	kjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// argoVersion is stamped at build time (-X main.argoVersion=...): the
// argo-workflows release whose validator this binary carries.
var argoVersion = "unknown"

// maxFileBytes bounds what one manifest file may hold.
const maxFileBytes = 8 << 20

// Problem is one finding, located in its file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Check   string `json:"check"`
	Message string `json:"message"`
}

// document is one YAML document of a file with its node tree for lines.
type document struct {
	file string
	node *yaml.Node
	kind string
	name string
	obj  any
}

type report struct {
	Checked  int       `json:"checked"`
	Problems []Problem `json:"problems"`
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Printf("argo-validate %s\n", argoVersion)
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: argo-validate FILE...")
		os.Exit(2)
	}
	out := report{Problems: []Problem{}}
	var docs []*document
	for _, file := range os.Args[1:] {
		found, problems := readFile(file)
		docs = append(docs, found...)
		out.Problems = append(out.Problems, problems...)
	}
	templates := templateGetter{}
	clusterTemplates := clusterTemplateGetter{}
	for _, doc := range docs {
		switch obj := doc.obj.(type) {
		case *wfv1.WorkflowTemplate:
			templates[obj.Name] = obj
		case *wfv1.ClusterWorkflowTemplate:
			clusterTemplates[obj.Name] = obj
		}
	}
	for _, doc := range docs {
		if doc.obj == nil {
			continue
		}
		out.Checked++
		if err := validateDocument(doc, templates, clusterTemplates); err != nil {
			out.Problems = append(out.Problems, doc.problem("argo-validate", err.Error()))
		}
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		os.Exit(2)
	}
	if len(out.Problems) > 0 {
		os.Exit(1)
	}
}

func validateDocument(doc *document, wft templateGetter, cwft clusterTemplateGetter) error {
	opts := validate.ValidateOpts{Lint: true}
	switch obj := doc.obj.(type) {
	case *wfv1.Workflow:
		return validate.ValidateWorkflow(wft, cwft, obj, nil, opts)
	case *wfv1.WorkflowTemplate:
		return validate.ValidateWorkflowTemplate(wft, cwft, obj, nil, opts)
	case *wfv1.ClusterWorkflowTemplate:
		return validate.ValidateClusterWorkflowTemplate(wft, cwft, obj, nil, opts)
	case *eventsv1.Sensor:
		return validateSensor(obj)
	case *eventsv1.EventSource:
		return validateEventSource(obj)
	}
	return nil
}

// validateSensor applies the structural rules Argo Events' sensor controller
// checks before it runs a sensor: dependencies and triggers exist and are
// named uniquely, each trigger has exactly one kind, and every parameter
// refers to a declared dependency.
func validateSensor(sensor *eventsv1.Sensor) error {
	if len(sensor.Spec.Dependencies) == 0 {
		return errors.New("spec.dependencies: no event dependencies found")
	}
	if len(sensor.Spec.Triggers) == 0 {
		return errors.New("spec.triggers: no triggers found")
	}
	deps := map[string]bool{}
	for i, dep := range sensor.Spec.Dependencies {
		if dep.Name == "" || dep.EventSourceName == "" || dep.EventName == "" {
			return fmt.Errorf("spec.dependencies[%d]: name, eventSourceName and eventName are required", i)
		}
		if deps[dep.Name] {
			return fmt.Errorf("spec.dependencies[%d]: duplicate dependency name %q", i, dep.Name)
		}
		deps[dep.Name] = true
	}
	for i, trigger := range sensor.Spec.Triggers {
		tmpl := trigger.Template
		if tmpl == nil || tmpl.Name == "" {
			return fmt.Errorf("spec.triggers[%d].template.name is required", i)
		}
		kinds := 0
		for _, set := range []bool{tmpl.K8s != nil, tmpl.ArgoWorkflow != nil, tmpl.HTTP != nil,
			tmpl.AWSLambda != nil, tmpl.CustomTrigger != nil, tmpl.Kafka != nil, tmpl.NATS != nil,
			tmpl.Slack != nil, tmpl.OpenWhisk != nil, tmpl.Log != nil, tmpl.AzureEventHubs != nil,
			tmpl.Pulsar != nil, tmpl.Email != nil, tmpl.AzureServiceBus != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return fmt.Errorf("triggers.%s: exactly one trigger kind must be set (found %d)", tmpl.Name, kinds)
		}
		if k8s := tmpl.K8s; k8s != nil {
			if k8s.Source == nil || k8s.Source.Resource == nil {
				return fmt.Errorf("triggers.%s.k8s.source.resource is required", tmpl.Name)
			}
			if k8s.Operation != "" && k8s.Operation != eventsv1.Create && k8s.Operation != eventsv1.Update &&
				k8s.Operation != eventsv1.Patch && k8s.Operation != eventsv1.Delete {
				return fmt.Errorf("triggers.%s.k8s.operation %q is not one of create, update, patch, delete", tmpl.Name, k8s.Operation)
			}
			for j, param := range k8s.Parameters {
				if param.Src == nil || !deps[param.Src.DependencyName] {
					return fmt.Errorf("triggers.%s.k8s.parameters[%d].src.dependencyName names no dependency", tmpl.Name, j)
				}
				if param.Dest == "" {
					return fmt.Errorf("triggers.%s.k8s.parameters[%d].dest is required", tmpl.Name, j)
				}
			}
		}
	}
	return nil
}

func validateEventSource(source *eventsv1.EventSource) error {
	if len(source.Spec.Webhook) == 0 {
		return nil
	}
	for name, hook := range source.Spec.Webhook {
		if hook.Endpoint == "" || !strings.HasPrefix(hook.Endpoint, "/") {
			return fmt.Errorf("webhook.%s.endpoint must start with '/'", name)
		}
		if hook.Port == "" {
			return fmt.Errorf("webhook.%s.port is required", name)
		}
		if hook.Method == "" {
			return fmt.Errorf("webhook.%s.method is required", name)
		}
	}
	return nil
}

// readFile splits a file into documents and decodes each known kind strictly.
func readFile(file string) ([]*document, []Problem) {
	handle, err := os.Open(file)
	if err != nil {
		return nil, []Problem{{File: file, Line: 1, Check: "read", Message: err.Error()}}
	}
	defer handle.Close()
	body, err := io.ReadAll(io.LimitReader(handle, maxFileBytes+1))
	if err != nil || len(body) > maxFileBytes {
		return nil, []Problem{{File: file, Line: 1, Check: "read", Message: "unreadable or larger than 8 MiB"}}
	}
	decoder := yaml.NewDecoder(bytes.NewReader(body))
	var docs []*document
	var problems []Problem
	for {
		node := &yaml.Node{}
		err := decoder.Decode(node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return docs, append(problems, Problem{File: file, Line: yamlErrorLine(err), Check: "yaml", Message: err.Error()})
		}
		doc := &document{file: file, node: node}
		if problem := doc.decode(); problem != nil {
			problems = append(problems, *problem)
		}
		if doc.kind != "" {
			docs = append(docs, doc)
		}
	}
	return docs, problems
}

func (doc *document) decode() *Problem {
	root := doc.root()
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	doc.kind = scalar(root, "kind")
	if meta := child(root, "metadata"); meta != nil {
		doc.name = scalar(meta, "name")
		if doc.name == "" {
			doc.name = scalar(meta, "generateName")
		}
	}
	var obj any
	switch doc.kind {
	case "Workflow":
		obj = &wfv1.Workflow{}
	case "WorkflowTemplate":
		obj = &wfv1.WorkflowTemplate{}
	case "ClusterWorkflowTemplate":
		obj = &wfv1.ClusterWorkflowTemplate{}
	case "Sensor":
		obj = &eventsv1.Sensor{}
	case "EventSource":
		obj = &eventsv1.EventSource{}
	default:
		return nil
	}
	text, err := yaml.Marshal(doc.node)
	if err != nil {
		p := doc.problem("yaml", err.Error())
		return &p
	}
	raw, err := sigsyaml.YAMLToJSONStrict(text)
	if err != nil {
		p := doc.problem("strict-yaml", err.Error())
		return &p
	}
	strictErrs, err := kjson.UnmarshalStrict(raw, obj)
	if err != nil {
		p := doc.problem("strict-yaml", err.Error())
		return &p
	}
	if len(strictErrs) > 0 {
		p := doc.problem("strict-yaml", strictErrs[0].Error())
		if len(strictErrs) > 1 {
			p.Message += fmt.Sprintf(" (and %d more)", len(strictErrs)-1)
		}
		return &p
	}
	doc.obj = obj
	return nil
}

func (doc *document) root() *yaml.Node {
	if doc.node.Kind == yaml.DocumentNode && len(doc.node.Content) == 1 {
		return doc.node.Content[0]
	}
	return doc.node
}

// problem locates a message in the document: a field path such as
// `spec.templates[2].contaner` (strict decoding) or names such as
// `templates.main.tasks.b` (Argo's validator) lead to the deepest node found.
func (doc *document) problem(check, message string) Problem {
	line := doc.root().Line
	if node := locate(doc.root(), message); node != nil {
		line = node.Line
	}
	return Problem{File: doc.file, Line: line, Kind: doc.kind, Name: doc.name, Check: check, Message: message}
}

var (
	fieldPath    = regexp.MustCompile(`unknown field "([^"]+)"`)
	pathStep     = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)
	namedElement = regexp.MustCompile(`(templates|tasks|steps|triggers|dependencies|webhook)\.([A-Za-z0-9_.\-]+?)(?:[\s.:\[]|$)`)
)

func locate(root *yaml.Node, message string) *yaml.Node {
	if match := fieldPath.FindStringSubmatch(message); match != nil {
		return walkPath(root, match[1])
	}
	node := root
	var found *yaml.Node
	for _, match := range namedElement.FindAllStringSubmatch(message, -1) {
		if next := findNamed(node, match[1], match[2]); next != nil {
			node, found = next, next
		}
	}
	if value := findValue(node, message); value != nil {
		return value
	}
	return found
}

var (
	quoted         = regexp.MustCompile(`'([^']+)'|"([^"]+)"`)
	dependencyName = regexp.MustCompile(`dependenc(?:y|ies) '?([A-Za-z0-9_.\-]+)'?`)
)

// findValue narrows a validator message to the value it complains about:
// a quoted name ('ehco') found as a scalar below node, or a dependency
// named in a `depends`/`dependencies` expression.
func findValue(node *yaml.Node, message string) *yaml.Node {
	for _, match := range quoted.FindAllStringSubmatch(message, -1) {
		token := match[1] + match[2]
		if hit := firstScalar(node, "", func(_, value string) bool { return value == token }); hit != nil {
			return hit
		}
	}
	if match := dependencyName.FindStringSubmatch(message); match != nil {
		word := regexp.MustCompile(`(^|[^A-Za-z0-9_.\-])` + regexp.QuoteMeta(match[1]) + `($|[^A-Za-z0-9_.\-])`)
		return firstScalar(node, "", func(key, value string) bool {
			return (key == "depends" || key == "dependencies") && word.MatchString(value)
		})
	}
	return nil
}

// firstScalar walks node in document order and returns the first scalar
// value (not a key) for which match(key it belongs to, value) holds.
func firstScalar(node *yaml.Node, key string, match func(key, value string) bool) *yaml.Node {
	if node == nil {
		return nil
	}
	switch node.Kind {
	case yaml.ScalarNode:
		if match(key, node.Value) {
			return node
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			if hit := firstScalar(node.Content[i+1], node.Content[i].Value, match); hit != nil {
				return hit
			}
		}
	default:
		for _, child := range node.Content {
			if hit := firstScalar(child, key, match); hit != nil {
				return hit
			}
		}
	}
	return nil
}

// walkPath follows a JSON field path through the node tree; for an unknown
// field it stops on the key itself, so the line is the typo's line.
func walkPath(node *yaml.Node, path string) *yaml.Node {
	var last *yaml.Node
	for _, step := range pathStep.FindAllStringSubmatch(path, -1) {
		switch {
		case step[2] != "" && node != nil && node.Kind == yaml.SequenceNode:
			index, _ := strconv.Atoi(step[2])
			if index >= len(node.Content) {
				return last
			}
			node = node.Content[index]
		case step[1] != "" && node != nil && node.Kind == yaml.MappingNode:
			key, value := keyValue(node, step[1])
			if key == nil {
				return last
			}
			last, node = key, value
			continue
		default:
			return last
		}
		last = node
	}
	return last
}

// findNamed finds, below node, the list element called name under a key
// `field` (templates, tasks, steps, ...) or the key itself for maps.
func findNamed(node *yaml.Node, field, name string) *yaml.Node {
	var result *yaml.Node
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if result != nil || n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, value := n.Content[i], n.Content[i+1]
				if key.Value == field {
					if hit := namedIn(value, name); hit != nil {
						result = hit
						return
					}
				}
				visit(value)
			}
			return
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(node)
	return result
}

func namedIn(value *yaml.Node, name string) *yaml.Node {
	switch value.Kind {
	case yaml.MappingNode:
		if key, _ := keyValue(value, name); key != nil {
			return key
		}
	case yaml.SequenceNode:
		for _, item := range value.Content {
			items := []*yaml.Node{item}
			if item.Kind == yaml.SequenceNode { // steps: a list of parallel groups
				items = item.Content
			}
			for _, it := range items {
				if it.Kind == yaml.MappingNode && scalar(it, "name") == name {
					return it
				}
			}
		}
	}
	return nil
}

func keyValue(node *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i], node.Content[i+1]
		}
	}
	return nil, nil
}

func child(node *yaml.Node, key string) *yaml.Node {
	_, value := keyValue(node, key)
	return value
}

func scalar(node *yaml.Node, key string) string {
	if value := child(node, key); value != nil && value.Kind == yaml.ScalarNode {
		return value.Value
	}
	return ""
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrorLine(err error) int {
	if match := yamlLine.FindStringSubmatch(err.Error()); match != nil {
		if n, convErr := strconv.Atoi(match[1]); convErr == nil {
			return n
		}
	}
	return 1
}

// templateGetter resolves templateRef against the WorkflowTemplates given.
type templateGetter map[string]*wfv1.WorkflowTemplate

func (g templateGetter) Get(name string) (*wfv1.WorkflowTemplate, error) {
	if tmpl, ok := g[name]; ok {
		return tmpl, nil
	}
	return nil, fmt.Errorf("WorkflowTemplate %q is not among the files given", name)
}

type clusterTemplateGetter map[string]*wfv1.ClusterWorkflowTemplate

func (g clusterTemplateGetter) Get(name string) (*wfv1.ClusterWorkflowTemplate, error) {
	if tmpl, ok := g[name]; ok {
		return tmpl, nil
	}
	return nil, fmt.Errorf("ClusterWorkflowTemplate %q is not among the files given", name)
}
