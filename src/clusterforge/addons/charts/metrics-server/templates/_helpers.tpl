{{/*
Shared snippets of the metrics-server chart. Selectors use only the labels
that never change between versions.
*/}}

{{- define "metrics-server.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "metrics-server.version" -}}
{{- .Values.version | default .Chart.AppVersion -}}
{{- end -}}

{{- define "metrics-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metrics-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "metrics-server.labels" -}}
{{ include "metrics-server.selectorLabels" . }}
app.kubernetes.io/version: {{ include "metrics-server.version" . | quote }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: clusterforge
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* An image reference; global.registry, when set, replaces the image's own registry. */}}
{{- define "metrics-server.image" -}}
{{- $registry := .root.Values.global.registry | default .image.registry | trimSuffix "/" -}}
{{- $tag := .image.tag | default (include "metrics-server.version" .root) -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- end -}}
