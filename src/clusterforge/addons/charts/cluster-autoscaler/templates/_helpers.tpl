{{/*
Shared snippets of the cluster-autoscaler chart. Selectors use only the labels
that never change between versions.
*/}}

{{- define "cluster-autoscaler.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cluster-autoscaler.version" -}}
{{- .Values.version | default .Chart.AppVersion -}}
{{- end -}}

{{- define "cluster-autoscaler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cluster-autoscaler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cluster-autoscaler.labels" -}}
{{ include "cluster-autoscaler.selectorLabels" . }}
app.kubernetes.io/version: {{ include "cluster-autoscaler.version" . | quote }}
app.kubernetes.io/component: autoscaler
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: clusterforge
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* An image reference; global.registry, when set, replaces the image's own registry. */}}
{{- define "cluster-autoscaler.image" -}}
{{- $registry := .root.Values.global.registry | default .image.registry | trimSuffix "/" -}}
{{- $tag := .image.tag | default (include "cluster-autoscaler.version" .root) -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- end -}}

{{/*
One `--nodes=min:max:name` argument per node group, refusing a group the
autoscaler would reject at start-up.
*/}}
{{- define "cluster-autoscaler.nodeGroupArgs" -}}
{{- $seen := dict -}}
{{- range $i, $group := .Values.nodeGroups -}}
{{- if not $group.name -}}
{{- fail (printf "nodeGroups[%d].name: every node group needs a name" $i) -}}
{{- end -}}
{{- if hasKey $seen $group.name -}}
{{- fail (printf "nodeGroups[%d].name: %q is listed twice; give each node group once" $i $group.name) -}}
{{- end -}}
{{- $_ := set $seen $group.name true -}}
{{- $min := int ($group.minSize | default 0) -}}
{{- $max := int ($group.maxSize | default 0) -}}
{{- if lt $min 0 -}}
{{- fail (printf "nodeGroups[%d].minSize: %d is negative; use 0 or more" $i $min) -}}
{{- end -}}
{{- if lt $max $min -}}
{{- fail (printf "nodeGroups[%d].maxSize: %d is below minSize %d; make maxSize >= minSize" $i $max $min) -}}
{{- end }}
- --nodes={{ $min }}:{{ $max }}:{{ $group.name }}
{{- end -}}
{{- end -}}
