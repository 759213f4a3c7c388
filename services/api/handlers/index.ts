import type { Handler } from "../context.ts";
import * as clusters from "./clusters.ts";
import * as instances from "./instances.ts";
import * as services from "./services.ts";
import * as taskdefs from "./taskdefs.ts";
import * as tasks from "./tasks.ts";

/** ECS action name → handler. Actions of the ECS model not listed here answer UnsupportedFeatureException. */
export const ecsHandlers: Record<string, Handler> = {
  CreateCluster: clusters.CreateCluster,
  DescribeClusters: clusters.DescribeClusters,
  ListClusters: clusters.ListClusters,
  DeleteCluster: clusters.DeleteCluster,
  RegisterTaskDefinition: taskdefs.RegisterTaskDefinition,
  DescribeTaskDefinition: taskdefs.DescribeTaskDefinition,
  DeregisterTaskDefinition: taskdefs.DeregisterTaskDefinition,
  DeleteTaskDefinitions: taskdefs.DeleteTaskDefinitions,
  ListTaskDefinitions: taskdefs.ListTaskDefinitions,
  ListTaskDefinitionFamilies: taskdefs.ListTaskDefinitionFamilies,
  RunTask: tasks.RunTask,
  StopTask: tasks.StopTask,
  DescribeTasks: tasks.DescribeTasks,
  ListTasks: tasks.ListTasks,
  CreateService: services.CreateService,
  UpdateService: services.UpdateService,
  DeleteService: services.DeleteService,
  DescribeServices: services.DescribeServices,
  ListServices: services.ListServices,
  ListServicesByNamespace: services.ListServicesByNamespace,
  ListContainerInstances: instances.ListContainerInstances,
  DescribeContainerInstances: instances.DescribeContainerInstances,
};
