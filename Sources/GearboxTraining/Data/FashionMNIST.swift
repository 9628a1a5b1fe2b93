// GearboxTraining/FashionMNIST: the Fashion-MNIST data set as Debian's dataset-fashion-mnist
// installs it (four gzip IDX files), its normalisation, and deterministic subsets for quick runs.

import Foundation

/// Labelled 28×28 grey images with 10 classes, as bytes; normalised on the way into a batch.
public struct ImageDataset: Sendable {
    public var images: [UInt8]
    public var labels: [UInt8]
    public var count: Int
    public var height: Int
    public var width: Int
    public var classes: Int

    public init(images: [UInt8], labels: [UInt8], height: Int, width: Int, classes: Int) {
        self.images = images
        self.labels = labels
        self.count = labels.count
        self.height = height
        self.width = width
        self.classes = classes
    }

    public var pixelsPerImage: Int { height * width }

    /// The first `n` examples (or all when `n` is larger): the deterministic subset quick runs use.
    public func prefix(_ n: Int) -> ImageDataset {
        let k = min(n, count)
        return ImageDataset(
            images: Array(images[0..<(k * pixelsPerImage)]), labels: Array(labels[0..<k]),
            height: height, width: width, classes: classes)
    }
}

/// Where the Fashion-MNIST files are and how pixels are normalised.
public enum FashionMNIST {
    /// Debian's dataset-fashion-mnist install location.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// x = (pixel × scale − mean) / std, with the training set's mean and standard deviation.
    public static let preprocess = (scale: 1.0 / 255.0, mean: 0.2860, std: 0.3530)
    public static let classes = 10

    /// Loads the training or test split from `directory`.
    public static func load(split: Split, directory: String = defaultDirectory) throws -> ImageDataset {
        let imagesPath = "\(directory)/\(split.filePrefix)-images-idx3-ubyte.gz"
        let labelsPath = "\(directory)/\(split.filePrefix)-labels-idx1-ubyte.gz"
        let images = try IDXFile.read(path: imagesPath)
        let labels = try IDXFile.read(path: labelsPath)
        return try dataset(images: images, labels: labels, imagesPath: imagesPath, labelsPath: labelsPath)
    }

    /// Checks that an images file and a labels file form one data set.
    public static func dataset(
        images: IDXFile, labels: IDXFile, imagesPath: String, labelsPath: String
    ) throws -> ImageDataset {
        guard images.shape.count == 3 else {
            throw TrainingError.badDataset(path: imagesPath, reason: "expected 3 dimensions (N×H×W), found \(images.shape)")
        }
        guard labels.shape.count == 1 else {
            throw TrainingError.badDataset(path: labelsPath, reason: "expected 1 dimension (N), found \(labels.shape)")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw TrainingError.badDataset(
                path: labelsPath, reason: "\(labels.shape[0]) labels for \(images.shape[0]) images in \(imagesPath)")
        }
        if let bad = labels.values.first(where: { Int($0) >= classes }) {
            throw TrainingError.badDataset(path: labelsPath, reason: "label \(bad) outside 0..<\(classes)")
        }
        return ImageDataset(
            images: images.values, labels: labels.values, height: images.shape[1], width: images.shape[2],
            classes: classes)
    }

    public enum Split: String, Sendable {
        case train, test
        var filePrefix: String { self == .train ? "train" : "t10k" }
    }
}
