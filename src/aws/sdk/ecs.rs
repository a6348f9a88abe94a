//! Ecs through the SDK.

use super::*;

/// The network of a service, from its typed `awsvpcConfiguration`.
fn awsvpc(s: &aws_sdk_ecs::types::Service) -> Option<AwsVpc> {
    s.network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|a| AwsVpc {
            subnets: a.subnets().to_vec(),
            security_groups: a.security_groups().to_vec(),
            assign_public_ip: a
                .assign_public_ip()
                .is_some_and(|p| p.as_str() == "ENABLED"),
        })
}

fn epoch(t: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    t.map(|t| t.secs())
}

impl Ecs for SdkAws {
    async fn list_clusters(&self) -> AwsResult<Vec<String>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ecs:ListClusters",
                self.ecs.list_clusters().set_next_token(token).send()
            )?;
            Ok((
                page.cluster_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    async fn describe_clusters(&self, clusters: &[String]) -> AwsResult<Vec<Cluster>> {
        let out = call!(
            self,
            "ecs:DescribeClusters",
            self.ecs
                .describe_clusters()
                .set_clusters(Some(clusters.to_vec()))
                .include(aws_sdk_ecs::types::ClusterField::Tags)
                .send()
        )?;
        Ok(out
            .clusters()
            .iter()
            .map(|c| Cluster {
                arn: c.cluster_arn().unwrap_or_default().to_string(),
                name: c.cluster_name().unwrap_or_default().to_string(),
                tags: c
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            })
            .collect())
    }

    async fn list_services(&self, cluster: &str) -> AwsResult<Vec<String>> {
        all_pages(|token| async move {
            let page = call!(
                self,
                "ecs:ListServices",
                self.ecs
                    .list_services()
                    .cluster(cluster)
                    .set_next_token(token)
                    .send()
            )?;
            Ok((
                page.service_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> AwsResult<Vec<Service>> {
        let api = "ecs:DescribeServices";
        let raw = RawBody::default();
        let out = call!(
            self,
            "ecs:DescribeServices",
            self.ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(services.to_vec()))
                .customize()
                .interceptor(raw.clone())
                .send()
        )?;
        // Every field as AWS returned it, by ARN.
        let body = raw.json(api)?;
        let documents: Vec<&Value> = body["services"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        out.services()
            .iter()
            .map(|s| {
                let arn = s.service_arn().unwrap_or_default().to_string();
                let json = documents
                    .iter()
                    .find(|d| d["serviceArn"].as_str() == Some(arn.as_str()))
                    .map(|d| (*d).clone())
                    .ok_or_else(|| AwsError {
                        api,
                        kind: ErrorKind::Other,
                        message: format!("`{arn}` is missing from the response body"),
                    })?;
                let primary = s
                    .deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"));
                Ok(Service {
                    name: s.service_name().unwrap_or_default().to_string(),
                    cluster_arn: s.cluster_arn().unwrap_or(cluster).to_string(),
                    task_definition: s.task_definition().unwrap_or_default().to_string(),
                    desired_count: s.desired_count(),
                    json,
                    network: awsvpc(s),
                    primary_deployment_at: epoch(primary.and_then(|d| d.created_at())),
                    arn,
                })
            })
            .collect()
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        let api = "ecs:DescribeTaskDefinition";
        let raw = RawBody::default();
        let out = call!(
            self,
            "ecs:DescribeTaskDefinition",
            self.ecs
                .describe_task_definition()
                .task_definition(arn)
                .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
                .customize()
                .interceptor(raw.clone())
                .send()
        )?;
        let td = out.task_definition().ok_or_else(|| AwsError {
            api,
            kind: ErrorKind::NotFound,
            message: format!("no task definition `{arn}`"),
        })?;
        Ok(TaskDefinition {
            arn: td.task_definition_arn().unwrap_or(arn).to_string(),
            document: raw.json(api)?,
        })
    }

    async fn list_running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<String>> {
        all_pages(|token| async move {
            let req = self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .service_name(service)
                .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
                .set_next_token(token);
            let page = call!(self, "ecs:ListTasks", req.send())?;
            Ok((
                page.task_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await
    }

    async fn describe_tasks(&self, cluster: &str, tasks: &[String]) -> AwsResult<Vec<Task>> {
        let out = call!(
            self,
            "ecs:DescribeTasks",
            self.ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(tasks.to_vec()))
                .send()
        )?;
        Ok(out
            .tasks()
            .iter()
            .map(|t| Task {
                arn: t.task_arn().unwrap_or_default().to_string(),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| {
                        (
                            c.name().unwrap_or_default().to_string(),
                            c.image().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                started_at: epoch(t.started_at().or(t.created_at())),
                states: t
                    .containers()
                    .iter()
                    .map(|c| ContainerState {
                        name: c.name().unwrap_or_default().to_string(),
                        last_status: c.last_status().unwrap_or_default().to_string(),
                        exit_code: c.exit_code(),
                        reason: c.reason().map(str::to_string),
                    })
                    .collect(),
            })
            .collect())
    }

    async fn register_task_definition(&self, input: &Value) -> AwsResult<String> {
        let api = "ecs:RegisterTaskDefinition";
        let body = serde_json::to_vec(input).map_err(|e| AwsError {
            api,
            kind: ErrorKind::Other,
            message: e.to_string(),
        })?;
        // The request body is the input document itself, every field as given (the SDK's
        // builder would keep only the fields this SDK version knows).
        let out = call!(
            self,
            "ecs:RegisterTaskDefinition",
            self.ecs
                .register_task_definition()
                .set_family(input["family"].as_str().map(str::to_string))
                .customize()
                .interceptor(JsonBody(body))
                .send()
        )?;
        Ok(out
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .unwrap_or_default()
            .to_string())
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        call!(
            self,
            "ecs:DeregisterTaskDefinition",
            self.ecs
                .deregister_task_definition()
                .task_definition(arn)
                .send()
        )?;
        Ok(())
    }

    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: Option<&str>,
        platform_version: Option<&str>,
        force: bool,
    ) -> AwsResult<()> {
        let mut req = self
            .ecs
            .update_service()
            .cluster(cluster)
            .service(service)
            .force_new_deployment(force);
        if let Some(td) = task_definition {
            req = req.task_definition(td);
        }
        if let Some(pv) = platform_version {
            req = req.platform_version(pv);
        }
        call!(self, "ecs:UpdateService", req.send())?;
        Ok(())
    }
}
