{{/*
Shared snippets of the coredns chart. Every object carries the same
app.kubernetes.io labels; selectors use only the two that never change.
*/}}

{{- define "coredns.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "coredns.version" -}}
{{- .Values.version | default .Chart.AppVersion -}}
{{- end -}}

{{- define "coredns.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coredns.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
k8s-app: kube-dns
{{- end -}}

{{- define "coredns.labels" -}}
{{ include "coredns.selectorLabels" . }}
app.kubernetes.io/version: {{ include "coredns.version" . | quote }}
app.kubernetes.io/component: dns
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: clusterforge
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* An image reference; global.registry, when set, replaces the image's own registry. */}}
{{- define "coredns.image" -}}
{{- $registry := .root.Values.global.registry | default .image.registry | trimSuffix "/" -}}
{{- $tag := .image.tag | default (include "coredns.version" .root) -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- end -}}
