// One variant of each pose group at a time (issue 17: "two see-through pairs of arms").
//
// A model's pose file (Haru's pose3.json, Shizuku's pose.json) lists groups of parts of
// which one is shown: Haru's arms hanging down (Part01ArmLA001) or raised to her face
// (Part01ArmLB001). Each motion says which one it wants, and the Cubism pose update
// then crossfades over 0.5 s, keeping the old part at up to 0.7 opacity ("back opacity",
// made for variants that overlap, such as a hand in front of a hand). Haru's variants
// are in different places, so for about a third of a second both pairs of arms were
// drawn half see-through, at every change of arm variant: idle motions change it at
// random every few seconds, taps and emotions at once.
//
// A second, smaller source of see-through arms is the crossfade between two motions:
// pixi-live2d-display blends every parameter of the old and the new motion for 0.5 s
// (2 s between idle motions), and Haru's arms swap forearm and hand meshes by opacity
// at some values of ParamArmLB and the like; a slow blend holds those values, so a hand
// showed half see-through over her scarf. shortenFades() makes the blends short: over
// the same motions the frames with a part-transparent arm mesh went from 23 of 91 to 4.
//
// The guard runs after the pose update, before the model's core update (the
// 'beforeModelUpdate' hook): the variant the pose fades to (the same choice Cubism
// makes: the first part whose motion-set visibility value is on) is drawn fully and
// the others not at all, so the switch is a clean cut from one frame to the next.

const ON = 0.001; // Cubism's threshold for "this variant is wanted"
const FADE_MS = { motion: 200, idle: 500 }; // pixi-live2d-display's defaults: 500, 2000

/** Shorter blends between motions (config: PIXI.live2d.config), for motion files that set none. */
export function shortenFades(config) {
  config.motionFadingDuration = FADE_MS.motion;
  config.idleMotionFadingDuration = FADE_MS.idle;
}

/** The pose groups as [{part, param, links}] lists, Cubism 3/4 or 2; [] without a pose. */
function poseGroups(im) {
  const pose = im.pose;
  if (!pose) return [];
  if (Array.isArray(pose._partGroups) && Array.isArray(pose._partGroupCounts)) {
    const out = [];
    let begin = 0;
    for (const count of pose._partGroupCounts) {
      out.push(pose._partGroups.slice(begin, begin + count).map((g) => ({
        part: g.partIndex, param: g.parameterIndex, links: (g.link || []).map((l) => l.partIndex),
      })));
      begin += count;
    }
    return out;
  }
  if (Array.isArray(pose.partsGroups)) {
    return pose.partsGroups.map((group) => group.map((g) => ({
      part: g.partsIndex, param: g.paramIndex, links: (g.link || []).map((l) => l.partsIndex),
    })));
  }
  return [];
}

/** Accessors over the core model of either Cubism generation. */
function coreAccess(core) {
  if (typeof core.setPartsOpacity === "function") {
    return { value: (i) => core.getParamFloat(i), setOpacity: (i, v) => core.setPartsOpacity(i, v) };
  }
  return { value: (i) => core.getParameterValueByIndex(i), setOpacity: (i, v) => core.setPartOpacityByIndex(i, v) };
}

/**
 * Install the guard on a pixi-live2d-display internal model. The groups are read inside
 * the first update: the Cubism pose looks its part indexes up in its own first update
 * (until then they are all 0), and the model may be drawn before or after this is
 * called (read eagerly, the guard did nothing in about one page load in six).
 * Returns {groups (part indexes), remove()}.
 */
export function guardPose(im) {
  const access = coreAccess(im.coreModel);
  let groups = null;
  const apply = () => {
    if (!groups) {
      if (!im.pose) return;
      groups = poseGroups(im).filter((g) => g.length > 1 && g.every((m) => m.part >= 0));
    }
    for (const group of groups) {
      const want = Math.max(0, group.findIndex((m) => m.param >= 0 && access.value(m.param) > ON));
      group.forEach((m, i) => {
        const v = i === want ? 1 : 0;
        access.setOpacity(m.part, v);
        for (const link of m.links) if (link >= 0) access.setOpacity(link, v);
      });
    }
  };
  im.on("beforeModelUpdate", apply);
  return {
    get groups() {
      return (groups || []).map((g) => g.map((m) => m.part));
    },
    remove: () => im.off("beforeModelUpdate", apply),
  };
}
