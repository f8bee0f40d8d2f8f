{{/*
Shared snippets of the fluent-bit chart. Selectors use only the labels that
never change between versions.
*/}}

{{- define "fluent-bit.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fluent-bit.version" -}}
{{- .Values.version | default .Chart.AppVersion -}}
{{- end -}}

{{- define "fluent-bit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fluent-bit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fluent-bit.labels" -}}
{{ include "fluent-bit.selectorLabels" . }}
app.kubernetes.io/version: {{ include "fluent-bit.version" . | quote }}
app.kubernetes.io/component: logging
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: clusterforge
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* An image reference; global.registry, when set, replaces the image's own registry. */}}
{{- define "fluent-bit.image" -}}
{{- $registry := .root.Values.global.registry | default .image.registry | trimSuffix "/" -}}
{{- $tag := .image.tag | default (include "fluent-bit.version" .root) -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- end -}}

{{/* One fluent-bit.conf section: `[TITLE]` and an indented `Key value` line per entry. */}}
{{- define "fluent-bit.section" -}}
[{{ .title }}]
{{- range $key, $value := .body }}
    {{ $key }} {{ $value }}
{{- end }}
{{- end -}}
