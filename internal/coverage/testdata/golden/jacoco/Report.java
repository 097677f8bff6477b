import java.io.*;
import org.jacoco.core.analysis.*;
import org.jacoco.core.tools.ExecFileLoader;
import org.jacoco.report.*;
import org.jacoco.report.xml.XMLFormatter;

public class Report {
    public static void main(String[] a) throws Exception {
        ExecFileLoader loader = new ExecFileLoader();
        loader.load(new File(a[0]));
        CoverageBuilder b = new CoverageBuilder();
        new Analyzer(loader.getExecutionDataStore(), b).analyzeAll(new File(a[1]));
        IBundleCoverage bundle = b.getBundle("gold");
        IReportVisitor v = new XMLFormatter().createVisitor(new FileOutputStream(a[2]));
        v.visitInfo(loader.getSessionInfoStore().getInfos(), loader.getExecutionDataStore().getContents());
        v.visitBundle(bundle, new DirectorySourceFileLocator(new File(a[3]), "utf-8", 4));
        v.visitEnd();
        ICounter l = bundle.getLineCounter(), br = bundle.getBranchCounter();
        System.out.println("LINE missed=" + l.getMissedCount() + " covered=" + l.getCoveredCount());
        System.out.println("BRANCH missed=" + br.getMissedCount() + " covered=" + br.getCoveredCount());
    }
}
