{{/*
Labels every Application carries: which chart and release made it. ArgoCD itself tracks the
resources of a child Application, not these objects, so the labels are for people and selectors.
*/}}
{{- define "cluster-apps.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
