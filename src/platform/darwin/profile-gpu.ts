import { blank, comment, form, str, sym, type ProfileItem, type SExpr } from './sbpl.js';
import type { GpuPolicy } from './profile-types.js';

/**
 * GPU access for Metal and MPS. The IOKit classes are what MTLCreateSystemDefaultDevice opens
 * on Apple Silicon (AGXDeviceUserClient; AGXSharedUserClient when processes share the GPU) and
 * the IOAccel compatibility shims; the services are the shader compiler and GPU memory daemons.
 * MPS needs fewer classes and properties and no AGX compiler XPC service, but still the Metal
 * compiler: MPSGraph compiles fused kernels at run time.
 */

interface GpuSection {
  readonly userClients: readonly string[];
  readonly openUserClients: readonly string[];
  readonly properties: readonly string[];
  readonly machServices: readonly string[];
  readonly xpcServices: readonly string[];
  readonly xpcServicePrefixes: readonly string[];
  readonly preferenceDomains: readonly string[];
  readonly frameworks: readonly string[];
}

const MPS_PROPERTIES = [
  'device-id',
  'gpu-core-count',
  'GPUConfigurationVariable',
  'GPURawCounterBundleName',
  'IOClass',
  'IOGLESDefaultUseMetal',
  'IORegistryEntryPropertyKeys',
  'IOSourceVersion',
  'MetalPluginClassName',
  'MetalPluginName',
  'model',
  'soc-generation',
  'vendor-id',
];

const METAL_EXTRA_PROPERTIES = [
  'AGCInfo',
  'AGXCliqueTracingDefaults',
  'AGXInternalPerfCounterResourcesPath',
  'AGXLimitersDirName',
  'AGXParameterBufferMaxSize',
  'AGXParameterBufferMaxSizeEverMemless',
  'AGXParameterBufferMaxSizeNeverMemless',
  'AGXTraceCodeVersion',
  'CFBundleIdentifier',
  'CFBundleIdentifierKernel',
  'chip-id',
  'class-code',
  'CommandSubmissionEnabled',
  'CompactVRAM',
  'EnableBlitLib',
  'GPUDCCDisplayable',
  'GPUDebugNullClientMask',
  'GpuDebugPolicy',
  'GPURawCounterPluginClassName',
  'IOClassNameOverride',
  'IOGeneralInterest',
  'IOGLBundleName',
  'IOGLESBundleName',
  'IOGLESMetalBundleName',
  'IOMatchCategory',
  'IOMatchedAtBoot',
  'IONameMatch',
  'IONameMatched',
  'IOPCIMatch',
  'IOPersonalityPublisher',
  'IOPowerManagement',
  'IOProbeScore',
  'IOProviderClass',
  'IOReportLegend',
  'IOReportLegendPublic',
  'KDebugVersion',
  'MetalCoalesce',
  'MetalStatisticsName',
  'MetalStatisticsScriptName',
  'PerformanceStatistics',
  'Removable',
  'SafeEjectRequested',
  'SchedulerState',
  'SCMBuildTime',
  'SCMVersionNumber',
  'SurfaceList',
];

const METAL_FRAMEWORKS = [
  '/Library/GPUBundles',
  '/System/Library/Frameworks/Metal.framework',
  '/System/Library/Frameworks/MetalPerformanceShaders.framework',
  '/System/Library/Frameworks/MetalPerformanceShadersGraph.framework',
];

const SECTIONS: Record<Exclude<GpuPolicy, 'none'>, GpuSection> = {
  metal: {
    userClients: [
      'AGXDeviceUserClient',
      'AGXSharedUserClient',
      'IOSurfaceRootUserClient',
      'IOSurfaceAcceleratorClient',
      'IOAccelDevice',
      'IOAccelDevice2',
      'IOAccelContext',
      'IOAccelContext2',
      'IOAccelSharedUserClient',
      'IOAccelSharedUserClient2',
      'IOAccelSubmitter2',
      'RootDomainUserClient',
    ],
    openUserClients: [
      'AGXDeviceUserClient',
      'AGXSharedUserClient',
      'IOSurfaceRootUserClient',
      'IOSurfaceAcceleratorClient',
    ],
    properties: [...MPS_PROPERTIES, ...METAL_EXTRA_PROPERTIES].sort((a, b) => a.localeCompare(b)),
    machServices: [
      'com.apple.MTLCompilerService',
      'com.apple.CARenderServer',
      'com.apple.PowerManagement.control',
      'com.apple.gpu.process',
      'com.apple.gpumemd.source',
      'com.apple.cvmsServ',
    ],
    xpcServices: ['com.apple.MTLCompilerService'],
    xpcServicePrefixes: ['com.apple.AGXCompilerService'],
    preferenceDomains: ['com.apple.Metal', 'com.apple.opengl', 'com.nvidia.OpenGL'],
    frameworks: [...METAL_FRAMEWORKS, '/System/Library/PrivateFrameworks/GPUCompiler.framework'],
  },
  mps: {
    userClients: [
      'AGXDeviceUserClient',
      'AGXSharedUserClient',
      'IOSurfaceRootUserClient',
      'IOAccelDevice2',
      'IOAccelContext2',
      'IOAccelSharedUserClient2',
      'RootDomainUserClient',
    ],
    openUserClients: ['AGXDeviceUserClient', 'IOSurfaceRootUserClient'],
    properties: MPS_PROPERTIES,
    machServices: [
      'com.apple.MTLCompilerService',
      'com.apple.PowerManagement.control',
      'com.apple.gpumemd.source',
    ],
    xpcServices: ['com.apple.MTLCompilerService'],
    xpcServicePrefixes: [],
    preferenceDomains: ['com.apple.Metal'],
    frameworks: METAL_FRAMEWORKS,
  },
};

const each = (filter: string, values: readonly string[]): SExpr[] => values.map((v) => form(filter, str(v)));

/** The profile section for a GPU mode (for `none` only a comment: IOKit stays denied). */
export function gpuSection(gpu: GpuPolicy, fineGrainedIokit: boolean): ProfileItem[] {
  if (gpu === 'none') return [comment('gpu: none (IOKit and GPU services stay denied)'), blank];
  const s = SECTIONS[gpu];
  const items: ProfileItem[] = [
    comment(`gpu: ${gpu === 'metal' ? 'Metal compute, shader compilation included' : 'MPS only'}`),
    form('allow', sym('iokit-open'), ...each('iokit-user-client-class', s.userClients)),
    form('allow', sym('iokit-get-properties'), ...each('iokit-property', s.properties)),
    form('allow', sym('mach-lookup'), ...each('global-name', s.machServices)),
    form(
      'allow',
      sym('mach-lookup'),
      ...each('xpc-service-name', s.xpcServices),
      ...each('xpc-service-name-prefix', s.xpcServicePrefixes),
    ),
    form('allow', sym('user-preference-read'), ...each('preference-domain', s.preferenceDomains)),
    form('allow', sym('file-read*'), ...each('subpath', s.frameworks)),
    form('allow', sym('file-map-executable'), ...each('subpath', s.frameworks)),
    blank,
  ];
  if (fineGrainedIokit) {
    // Newer macOS splits iokit-open in two; older releases reject these operation names, so
    // they are written only where a probe found that sandbox-exec accepts them.
    items.splice(
      2,
      0,
      form(
        'allow',
        sym('iokit-open-service'),
        form('iokit-user-client-class', str('IOSurfaceRoot')),
        form('iokit-registry-entry-class-prefix', str('AGXAcceleratorG')),
      ),
      form('allow', sym('iokit-open-user-client'), ...each('iokit-user-client-class', s.openUserClients)),
    );
  }
  return items;
}
