import type { Handler } from "../context.ts";
import * as account from "./account.ts";
import * as agentApi from "./agent-api.ts";
import * as attributes from "./attributes.ts";
import * as capacityProviders from "./capacity-providers.ts";
import * as clusters from "./clusters.ts";
import * as clustersExtra from "./clusters-extra.ts";
import * as instances from "./instances.ts";
import * as instancesExtra from "./instances-extra.ts";
import * as protection from "./protection.ts";
import * as serviceDeployments from "./service-deployments.ts";
import * as services from "./services.ts";
import * as startTask from "./start-task.ts";
import * as tags from "./tags.ts";
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
  ListServiceDeployments: serviceDeployments.ListServiceDeployments,
  DescribeServiceDeployments: serviceDeployments.DescribeServiceDeployments,
  DescribeServiceRevisions: serviceDeployments.DescribeServiceRevisions,
  StopServiceDeployment: serviceDeployments.StopServiceDeployment,
  ListContainerInstances: instances.ListContainerInstances,
  DescribeContainerInstances: instances.DescribeContainerInstances,
  UpdateCluster: clustersExtra.UpdateCluster,
  UpdateClusterSettings: clustersExtra.UpdateClusterSettings,
  PutClusterCapacityProviders: clustersExtra.PutClusterCapacityProviders,
  StartTask: startTask.StartTask,
  RegisterContainerInstance: instancesExtra.RegisterContainerInstance,
  DeregisterContainerInstance: instancesExtra.DeregisterContainerInstance,
  UpdateContainerInstancesState: instancesExtra.UpdateContainerInstancesState,
  PutAttributes: attributes.PutAttributes,
  DeleteAttributes: attributes.DeleteAttributes,
  ListAttributes: attributes.ListAttributes,
  TagResource: tags.TagResource,
  UntagResource: tags.UntagResource,
  ListTagsForResource: tags.ListTagsForResource,
  PutAccountSetting: account.PutAccountSetting,
  PutAccountSettingDefault: account.PutAccountSettingDefault,
  DeleteAccountSetting: account.DeleteAccountSetting,
  ListAccountSettings: account.ListAccountSettings,
  CreateCapacityProvider: capacityProviders.CreateCapacityProvider,
  UpdateCapacityProvider: capacityProviders.UpdateCapacityProvider,
  DeleteCapacityProvider: capacityProviders.DeleteCapacityProvider,
  DescribeCapacityProviders: capacityProviders.DescribeCapacityProviders,
  DiscoverPollEndpoint: agentApi.DiscoverPollEndpoint,
  SubmitTaskStateChange: agentApi.SubmitTaskStateChange,
  SubmitContainerStateChange: agentApi.SubmitContainerStateChange,
  SubmitAttachmentStateChanges: agentApi.SubmitAttachmentStateChanges,
  GetTaskProtection: protection.GetTaskProtection,
  UpdateTaskProtection: protection.UpdateTaskProtection,
};
