{{/*
Shared snippets of the cert-manager chart. Its three workloads (controller,
cainjector, webhook) share the name/instance labels and differ by component.
*/}}

{{- define "cert-manager.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "cert-manager.version" -}}
{{- .Values.version | default .Chart.AppVersion -}}
{{- end -}}

{{/* Selector labels of one component: pass (dict "root" $ "component" "controller"). */}}
{{- define "cert-manager.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cert-manager.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's objects: pass (dict "root" $ "component" "controller"). */}}
{{- define "cert-manager.labels" -}}
{{ include "cert-manager.selectorLabels" . }}
app.kubernetes.io/version: {{ include "cert-manager.version" .root | quote }}
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: clusterforge
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* An image reference; global.registry, when set, replaces the image's own registry. */}}
{{- define "cert-manager.image" -}}
{{- $registry := .root.Values.global.registry | default .image.registry | trimSuffix "/" -}}
{{- $tag := .image.tag | default (include "cert-manager.version" .root) -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- end -}}

{{/* Scheduling fields shared by every pod of the chart. */}}
{{- define "cert-manager.placement" -}}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* One CustomResourceDefinition of the cert-manager.io group; the schema
accepts any spec and status (the controller validates them). */}}
{{- define "cert-manager.crd" -}}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {{ printf "%s.cert-manager.io" .plural }}
  labels:
    {{- include "cert-manager.labels" (dict "root" .root "component" "crds") | nindent 4 }}
    {{- if .root.Values.crds.keep }}
    # clusterforge's uninstall leaves objects with this label in place.
    clusterforge.dev/uninstall: keep
    {{- end }}
spec:
  group: cert-manager.io
  scope: {{ .scope }}
  names:
    kind: {{ .kind }}
    listKind: {{ printf "%sList" .kind }}
    plural: {{ .plural }}
    singular: {{ lower .kind }}
    shortNames: {{ toJson .shortNames }}
    categories: [cert-manager]
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        status: {}
      additionalPrinterColumns:
        {{- .columns | nindent 8 }}
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
      schema:
        openAPIV3Schema:
          description: {{ .description | quote }}
          type: object
          required: [spec]
          properties:
            apiVersion:
              type: string
            kind:
              type: string
            metadata:
              type: object
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
{{- end -}}
